"""Who is signed in: the Flask-Login glue, kept free of the database so every layer may ask `me()`."""

from __future__ import annotations

from flask_login import LoginManager, current_user

from .models import User

login_manager = LoginManager()


class SignedIn:
    """What Flask-Login keeps for a request: the User row, without teaching the model about sessions."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User):
        self.user = user

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    def get_id(self) -> str:
        return str(self.user.id)


def me() -> User:
    """The signed-in user (every page but sign-in and the health check requires one)."""
    return current_user.user
