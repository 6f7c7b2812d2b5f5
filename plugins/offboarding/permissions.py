"""The right the offboarding plugin checks (administrators hold every permission)."""

from opiekun.plugin import Permission

TRANSFER = Permission("offboarding.transfer", "See what users have and transfer it to others (offboarding)", ())

ALL = (TRANSFER,)
