"""Every rule about tasks: the API, the admin, the calendar feed, the jobs and the hooks
all come here, so they cannot disagree. One module per concern:

* :mod:`.visibility` — who sees which task, at which level (the sharing rules in SQL);
* :mod:`.sharing` — the grants that share a user's tasks;
* :mod:`.task_lists` — filtered, sorted lists of the tasks a viewer may see;
* :mod:`.validation` — checking a task's values before anything is saved;
* :mod:`.tasks` — creating, changing, completing and deleting tasks;
* :mod:`.next_tasks` — the tasks a task's type proposes once it is done;
* :mod:`.reminders` — reminder rows kept in line with tasks, and sending the due ones;
* :mod:`.configuration` — settings, task types and statuses;
* :mod:`.templates` — task templates and post-sale templates;
* :mod:`.calendar` — calendar-feed tokens and the tasks a feed shows;
* :mod:`.user_items` — a user's tasks for offboarding;
* :mod:`.wording` — sharing levels and deal outcomes named in refusals (labels in the admin).

They raise the domain's refusals (:mod:`opiekun.errors`): ``NotFound`` for a task the
viewer cannot see at all, ``Refused`` below the level an action needs, ``Invalid`` with a
problem per field; the API and the admin turn them into answers.
"""
