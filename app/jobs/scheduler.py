"""TimerScheduler: APScheduler wakes the timer firing exactly when the next timer falls due.

Three ways to learn about a new, earlier due time, none of which loads a workflow:
- a save in this process publishes it (app.processes.timer_notices) -> re-arm at once;
- PostgreSQL: the store NOTIFYs at commit and a listener thread here re-arms (saves by other processes);
- SQLite: `PRAGMA data_version` is polled (no table is read) and, when another connection committed,
  the earliest due time is read again.
A slow safety interval runs the firing regardless, and the first run happens at start: timers that fell
due while nothing was running fire then, once each (catch-up policy: docs/timers.md).

Running several schedulers (one per web worker, or `collabflow scheduler` processes) is safe: firing
claims each instance (see app.processes.services.fire_due_timers), so every due timer fires once.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from ..auth import user_sessions
from ..compliance import export_jobs
from ..db import utcnow
from ..notifications.models import OutboxEmail
from ..notifications.preferences import send_digests
from ..notifications.services import deliver_outbox
from ..processes import event_starts, timer_notices
from ..processes import services as process_services
from ..processes.models import ProcessInstance, Timer
from ..webhooks import delivery as webhooks
from .deadlines import DEFAULT_LEAD, next_reminder_at, send_deadline_reminders

log = logging.getLogger(__name__)

FIRE_JOB, SAFETY_JOB, WATCH_JOB, EXPORT_JOB = "timers-due", "timers-safety", "timers-watch", "exports-render"
PRUNE_EVERY = timedelta(hours=1)
MARGIN = timedelta(milliseconds=2)  # a timer fires once its time has passed: wake just after it


class TimerScheduler:
    def __init__(self, services, *, safety_interval: float = 60.0, watch_interval: float = 1.0,
                 reminder_lead: timedelta = DEFAULT_LEAD):
        self.services = services
        self.reminder_lead = reminder_lead
        self.safety_interval = safety_interval
        self.watch_interval = watch_interval
        # max_instances 2: a wake-up that falls while a firing round runs must still call `run` (which then only
        # asks the running round to go round again); with 1, APScheduler skipped it, and its `_armed` time then
        # suppressed every later wake-up until the safety interval (an export waited an hour)
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 2, "misfire_grace_time": None})
        self._armed: datetime | None = None
        self._arm_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._rerun = threading.Event()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._data_version: int | None = None
        self._watch_connection = None  # SQLite: data_version only compares within one connection
        self.fired = 0  # timers' instances fired by this scheduler (for tests and benchmarks)
        self._pruned_at: datetime | None = None  # dead sign-in sessions, old exports: deleted at most hourly
        self.queries = 0  # database round trips made while idle-watching (for the benchmark)

    @property
    def dialect(self) -> str:
        return self.services.db_engine.dialect.name

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> TimerScheduler:
        self.scheduler.start()
        self.scheduler.add_job(self.run, IntervalTrigger(seconds=self.safety_interval, timezone=UTC),
                               id=SAFETY_JOB, next_run_time=datetime.now(UTC), replace_existing=True)
        timer_notices.subscribe(self.wake_at)
        if self.dialect == "postgresql":
            self._listener = threading.Thread(target=self._listen_postgresql, name="timers-listen", daemon=True)
            self._listener.start()
        elif self.dialect == "sqlite":
            self.scheduler.add_job(self._watch_sqlite, IntervalTrigger(seconds=self.watch_interval, timezone=UTC),
                                   id=WATCH_JOB, replace_existing=True)
        log.info("timer scheduler started (%s)", self.dialect)
        return self

    def shutdown(self) -> None:
        self._stop.set()
        timer_notices.unsubscribe(self.wake_at)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._listener is not None:
            self._listener.join(timeout=10)
        if self._watch_connection is not None:
            self._watch_connection.close()

    # ------------------------------------------------------------------ waking
    def wake_at(self, due_at: datetime) -> None:
        """Make sure the firing runs just after `due_at` (earlier wake-ups are kept)."""
        with self._arm_lock:
            if self._armed is not None and self._armed <= due_at:
                return
            self._armed = due_at
            if self.scheduler.running:
                self.scheduler.add_job(self.run, DateTrigger(run_date=due_at + MARGIN, timezone=UTC), id=FIRE_JOB,
                                       replace_existing=True)

    def run(self) -> int:
        """Fire what is due, then arm for the earliest remaining timer. Concurrent calls collapse into one rerun,
        including one that arrives after the round's last look (while it arms): the round then starts again."""
        fired = 0
        while True:
            if not self._run_lock.acquire(blocking=False):
                self._rerun.set()
                return fired
            try:
                while True:
                    self._rerun.clear()
                    with self._arm_lock:
                        self._armed = None
                    fired += self.fire_due()
                    self.follow_up()
                    if not self._rerun.is_set():
                        break
                self._arm_next()
            except Exception:
                log.exception("timer firing round failed; the safety interval will try again")
                return fired
            finally:
                self._run_lock.release()
            if not self._rerun.is_set():
                return fired

    def fire_due(self, now: datetime | None = None) -> int:
        """One firing pass over everything due now (all batches)."""
        fired = 0
        with self.services.sessions() as session:
            while True:
                results = process_services.fire_due_timers(session, self.services.workflows, now=now or utcnow(),
                                                                 mail=self.services.mail)
                fired += len(results)
                if len(results) < 500:
                    break
        self.fired += fired
        return fired

    def follow_up(self, now: datetime | None = None) -> None:
        """What hangs on the clock besides BPMN timers: deadline reminders, e-mail and webhook (re)delivery."""
        with self.services.sessions() as session:
            event_starts.start_due(session, self.services.workflows, now=now or utcnow(), mail=self.services.mail)
            send_deadline_reminders(session, now or utcnow(), self.reminder_lead, mail=self.services.mail)
            send_digests(session, now or utcnow(), self.services.mail)
            if self._pruned_at is None or (now or utcnow()) - self._pruned_at > PRUNE_EVERY:
                user_sessions.prune(session, now=now or utcnow())
                export_jobs.prune(session, now=now or utcnow())
                self._pruned_at = now or utcnow()
            deliver_outbox(session, now or utcnow(), self.services.mail)
            webhooks.deliver_due(session, now or utcnow())
            waiting = export_jobs.next_render_at(session)
        if waiting is not None and waiting <= (now or utcnow()):
            if self.scheduler.running:  # its own job: a long print never holds up the timers
                self.scheduler.add_job(self.render_exports, id=EXPORT_JOB, replace_existing=True)
            else:
                self.render_exports(now)

    def render_exports(self, now: datetime | None = None) -> int:
        """Print every PDF export waiting now (app.compliance.export_jobs)."""
        try:
            with self.services.sessions() as session:
                return export_jobs.render_waiting(session, now_fn=(lambda: now) if now else utcnow)
        except Exception:
            log.exception("export rendering failed; the next wake-up tries again")
            return 0

    def _arm_next(self) -> None:
        with self.services.sessions() as session:
            due = session.scalar(select(func.min(Timer.due_at)).join(
                ProcessInstance, ProcessInstance.id == Timer.instance_id).where(
                *process_services.waits_for_timers()))
            reminder = next_reminder_at(session, self.reminder_lead)
            starts = event_starts.next_start_at(session)
            mail = session.scalar(select(func.min(OutboxEmail.next_attempt_at)).where(
                OutboxEmail.status == "pending")) if self.services.mail else None
            hooks = webhooks.next_attempt_at(session)
            prints = export_jobs.next_render_at(session)
        moments = [moment for moment in (due, reminder, mail, starts, hooks, prints) if moment is not None]
        if moments:
            self.wake_at(min(moments))

    # ------------------------------------------------------------------ other processes' saves
    def _watch_sqlite(self) -> None:
        """SQLite bumps data_version when another connection commits: then (only then) look at the timers."""
        if self._watch_connection is None:
            self._watch_connection = self.services.db_engine.raw_connection()
        cursor = self._watch_connection.cursor()
        try:
            version = cursor.execute("PRAGMA data_version").fetchone()[0]
        finally:
            cursor.close()
        self.queries += 1
        if self._data_version is not None and version == self._data_version:
            return
        changed = self._data_version is not None
        self._data_version = version
        if changed:
            self._arm_next()
            self.queries += 1

    def _listen_postgresql(self) -> None:
        """LISTEN on the store's channel; each NOTIFY carries a due time."""
        import psycopg

        url = self.services.db_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {timer_notices.CHANNEL}")
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            self.wake_at(datetime.fromisoformat(notice.payload))
            except Exception:
                if self._stop.wait(5):
                    return
                log.exception("timer listener lost its connection; reconnecting")
