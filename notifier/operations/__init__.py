"""What operators see and do: read-only views over Redis, and the few actions they take.

Every module here reads the gateway's own keys and Dramatiq's broker keys with a redis-py
client and the deployment's :class:`~notifier.settings.Settings`. Functions that need the
time take ``now``. Nothing returned holds a patient's name, and phone numbers and emails
only appear masked (:func:`notifier.privacy.mask_address`): the console, the metrics and
the ``notifier status`` command show these values as they are.

- :mod:`.queues`: Dramatiq queue depths, live workers, the scheduler's last pass.
- :mod:`.schedule_ahead`: how many messages are due per hour and per day, per channel.
- :mod:`.delivery_stats`: delivery counts, delivery rate and failures explained, from
  :mod:`.hourly_counts` (the delivery log's hourly hashes, parsed), :mod:`.hour_cache`
  and :mod:`.tally_sums` (what a process keeps of them) and :mod:`.delivery_rate`.
- :mod:`.story`: one appointment's story.
- :mod:`.dead_letters`: list, requeue and discard dead messages, with an audit.
- :mod:`.status`: the health summary shared by the console, ``/readyz`` and the CLI.
"""
