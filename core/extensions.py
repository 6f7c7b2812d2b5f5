"""Flask extensions, created unbound here and bound to an app in :func:`opiekun.app.create_app`."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from opiekun.replica import RoutingSession

#: Constraint names follow one convention so Alembic migrations can refer to them on
#: every database (SQLite needs names for batch-mode ALTERs).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION), session_options={"class_": RoutingSession})
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
