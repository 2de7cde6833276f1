"""CronJob controller: create a Job at each scheduled time.

Mirrors ``pkg/controller/cronjob`` and the standard cron parser it uses (``robfig/cron/v3``).
"""
