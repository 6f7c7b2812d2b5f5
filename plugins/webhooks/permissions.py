"""The right the webhooks plugin checks (administrators hold every permission).

``webhooks.manage`` is a wide right: an endpoint receives every change of the record
types it names, whoever may see those records in the panel.
"""

from opiekun.plugin import Permission

MANAGE = Permission("webhooks.manage", "Register webhook endpoints, see their deliveries and send them again", ())

ALL = (MANAGE,)
