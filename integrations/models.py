from django.db import models


class IdempotentRequest(models.Model):
    """One write sent with an `Idempotency-Key`: the first answer, kept to be given again.

    The row is written in the same transaction as the write itself, so either both are
    there or neither is: a retry after a lost answer replays the stored answer, and a
    retry after a failure (5xx, a crash) runs the request afresh."""

    scope = models.CharField(max_length=64, help_text="Whose key: the user the request was made as.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
