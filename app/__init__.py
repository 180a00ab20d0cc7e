"""collabflow's Flask application: `create_app` reads like a table of contents."""

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

    from . import api, error_handlers, extensions, views, web
    from .compliance import views as compliance_views
    from .dashboard import views as dashboard_views
    from .evidence import views as evidence_views
    from .inbox import views as inbox_views
    from .modeler import views as modeler_views
    from .registers import views as register_views
    from .relationships import views as relationship_views
    from .web import agenda as agenda_views
    from .web import notifications as notification_views
    from .web import signin as signin_views
    extensions.init_app(app)
    web.init_app(app)
    error_handlers.init_app(app)
    signin_views.init_app(app)
    api.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(inbox_views.bp)
    app.register_blueprint(relationship_views.bp)
    app.register_blueprint(evidence_views.bp)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(agenda_views.bp)
    app.register_blueprint(modeler_views.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(register_views.bp)
    app.register_blueprint(compliance_views.bp)
    return app
