"""Users and their API tokens. Only a token's hash is stored: a token is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..tables import User
from .database import Database


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return "rd_" + secrets.token_urlsafe(32)


class Users:
    def __init__(self, db: Database):
        self.db = db

    def create(self, name: str) -> tuple[User, str]:
        """A new user and their API token."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValueError("a user name must be 1-100 characters")
        token = _new_token()
        taken = f"a user named '{name}' already exists; choose another name"
        try:
            with self.db.write() as s:
                if s.exec(select(User).where(User.name == name)).first():
                    raise ValueError(taken)
                user = User(name=name, token_hash=hash_token(token))
                s.add(user)
        except IntegrityError:
            raise ValueError(taken) from None
        return user, token

    def rotate_token(self, name: str) -> str:
        """A new token for an existing user; their old token stops working."""
        token = _new_token()
        with self.db.write() as s:
            user = s.exec(select(User).where(User.name == name)).first()
            if user is None:
                raise KeyError(f"no user named '{name}'; add one with `director users add {name}`")
            user.token_hash = hash_token(token)
            s.add(user)
        return token

    def login_token(self, name: str) -> str:
        """A token to log in as `name`: the user is created when absent, else given a new token
        (only hashes are stored, so an old token cannot be shown)."""
        try:
            return self.create(name)[1]
        except ValueError:
            return self.rotate_token(name)

    def for_token(self, token: str | None) -> User | None:
        if not token:
            return None
        with self.db.read() as s:
            return s.exec(select(User).where(User.token_hash == hash_token(token))).first()

    def get(self, name: str) -> User | None:
        with self.db.read() as s:
            return s.exec(select(User).where(User.name == name)).first()

    def list(self) -> list[User]:
        with self.db.read() as s:
            return list(s.exec(select(User).order_by(col(User.name))))
