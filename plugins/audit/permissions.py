"""The rights the audit plugin checks (administrators hold every permission)."""

from opiekun.plugin import Permission

VIEW = Permission("audit.view", "See and export the change history of all records", ())
ANONYMIZE = Permission("audit.anonymize", "Anonymize persons (personal data in records and history)", ())
CONFIGURE = Permission("audit.configure", "Choose what the history records and how long it is kept", ())

ALL = (VIEW, ANONYMIZE, CONFIGURE)
