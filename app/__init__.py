"""collabflow's Flask application: `create_app` reads like a table of contents.

Each domain package has the same parts (models, services, pages, api + schemas); the pages' blueprints and the
API's blueprints are listed here, once, in the order they are bound.
"""

from __future__ import annotations

import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("COLLABFLOW_INSTANCE") or None)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import config as settings
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)

    from . import api, error_handlers, extensions, pages
    from .account import pages as account_pages
    from .admin import api as admin_api
    from .admin import pages as admin_pages
    from .agenda import api as agenda_api
    from .agenda import pages as agenda_pages
    from .audit import api as audit_api
    from .auth import pages as auth_pages
    from .calendar import api as calendar_api
    from .calendar import pages as calendar_pages
    from .compliance import api as compliance_api
    from .compliance import pages as compliance_pages
    from .dashboard import pages as dashboard_pages
    from .evidence import pages as evidence_pages
    from .inbox import api as inbox_api
    from .inbox import pages as inbox_pages
    from .management import pages as management_pages
    from .modeler import pages as modeler_pages
    from .notifications import api as notification_api
    from .notifications import pages as notification_pages
    from .processes import api as process_api
    from .processes import pages as process_pages
    from .registers import api as register_api
    from .registers import pages as register_pages
    from .relationships import api as relationship_api
    from .relationships import pages as relationship_pages
    from .spreadsheets import api as spreadsheet_api
    from .spreadsheets import pages as spreadsheet_pages
    from .sso import pages as sso_pages
    from .tokens import api as token_api
    from .webhooks import api as webhook_api
    from .webhooks import pages as webhook_pages

    extensions.init_app(app)
    from .audit.services import recorded
    from .management import services as management
    from .processes import connectors
    from .processes.services import reactions
    from .registers import services as registers
    from .webhooks import services as webhooks
    reactions.connect(management.on_action)  # one function object: connected once however many apps are made
    recorded.connect(webhooks.on_recorded)  # webhook deliveries written with the audit events that cause them
    connectors.add("create_register_entry", connectors.Performer(
        "connector.register_entry", registers.entry_from_service, registers.check_service_literals))
    pages.init_app(app)
    error_handlers.init_app(app)
    auth_pages.init_app(app)  # the sign-in hook runs before the API's authentication is installed
    api.init_app(app, [relationship_api.bp, inbox_api.bp, process_api.bp, process_api.ops_bp, register_api.bp,
                       compliance_api.bp, notification_api.bp, agenda_api.bp, audit_api.bp, token_api.bp,
                       admin_api.bp, calendar_api.bp, webhook_api.bp, spreadsheet_api.bp])
    sso_pages.init_app(app)  # after the sign-in and API hooks: it asks about the user they found
    for blueprint in (pages.bp, inbox_pages.bp, relationship_pages.bp, evidence_pages.bp, notification_pages.bp,
                      agenda_pages.bp, modeler_pages.bp, dashboard_pages.bp, register_pages.bp,
                      compliance_pages.bp, process_pages.bp, account_pages.bp, admin_pages.bp, management_pages.bp,
                      calendar_pages.bp, webhook_pages.bp, spreadsheet_pages.bp):
        app.register_blueprint(blueprint)
    return app
