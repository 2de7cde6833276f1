"""What kubeviz keeps of scenarios: the documents, the clusters launched from them, share links.

A ``Scenario`` is one stored document (its canonical YAML) behind a short slug.  A ``Launch`` is
a cluster started from a scenario and the progress of its timed steps.  A ``LiveLink`` is a
token that opens one running cluster, view-only or editable.  None of this is Kubernetes
state, so none of it goes through the apiserver.
"""

from __future__ import annotations

from django.db import models


class Scenario(models.Model):
    slug = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()  # the canonical YAML, exactly as it is exported
    builtin = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-builtin", "slug"]

    def __str__(self) -> str:
        return self.slug


class Launch(models.Model):
    """A cluster launched from a scenario, and where its timed steps have got to.

    ``done`` counts the steps carried out.  ``due`` is when the next one runs; while a
    ``pause`` step waits for the viewer, ``paused`` is set and ``due`` is empty.
    """

    cluster = models.CharField(max_length=63, unique=True)
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="launches")
    created = models.DateTimeField(auto_now_add=True)
    started = models.FloatField()  # epoch seconds: step times count from here
    done = models.PositiveIntegerField(default=0)
    due = models.FloatField(null=True)  # epoch seconds
    paused = models.BooleanField(default=False)
    shift = models.FloatField(default=0.0)  # seconds spent paused so far
    log = models.JSONField(default=list)  # [{"step", "at", "note", "ok", "message"}]

    def __str__(self) -> str:
        return f"{self.cluster} ({self.scenario_id})"


class LiveLink(models.Model):
    VIEW = "view"
    EDIT = "edit"
    MODES = [(VIEW, VIEW), (EDIT, EDIT)]

    token = models.CharField(max_length=40, unique=True)
    cluster = models.CharField(max_length=63, db_index=True)
    mode = models.CharField(max_length=4, choices=MODES)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.cluster} ({self.mode})"
