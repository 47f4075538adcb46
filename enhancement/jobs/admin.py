"""The back office of enhancement jobs: find a job, see its whole history, retry or refund it.

Jobs are read-only here: every change goes through `enhancement.jobs.transitions` (the same
verbs the site and the workers use), so the admin can never put a job in a state the flow would
not. Each action records the staff user who took it, on the job and in the ledger.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from enhancement.jobs import transitions
from enhancement.jobs.errors import JobError
from enhancement.models import DeletedJob, ImageEnhancementJob, JobStatus


@admin.register(ImageEnhancementJob)
class ImageEnhancementJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user_email",
        "image_name",
        "tier",
        "status",
        "tokens_cost",
        "retry_count",
        "engine",
        "cost",
        "created_at",
        "processing_started_at",
        "processing_completed_at",
    )
    list_filter = ("status", "tier", "engine")
    search_fields = ("id", "user__email", "image__name", "image__id")
    list_select_related = ("user", "image")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("retry_jobs", "refund_jobs")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("id", "user", "image", "tier", "tokens_cost", "status", "engine")}),
        (
            "Attempts",
            {
                "fields": (
                    "retry_count",
                    "max_retries",
                    "next_attempt_at",
                    "processing_started_at",
                    "processing_completed_at",
                    "error_message",
                )
            },
        ),
        (
            "Result",
            {
                "fields": (
                    "result_link",
                    "enhanced_r2_key",
                    "enhanced_preview_r2_key",
                    "enhanced_width",
                    "enhanced_height",
                    "enhanced_size_bytes",
                    "enhanced_format",
                    "gemini_prompt",
                )
            },
        ),
        (
            "Engine usage (every attempt added up)",
            {
                "fields": (
                    "engine_model",
                    "engine_input_tokens",
                    "engine_output_tokens",
                    "engine_seconds",
                    "engine_cpu_seconds",
                    "engine_cost_usd",
                )
            },
        ),
        ("Audit", {"fields": ("staff_actions_list", "request_key", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Everything: a job changes only through the services (the actions below).
        return [f.name for f in self.model._meta.fields] + ["result_link", "staff_actions_list"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Never here: the row would go with its tokens unrefunded and its files on disk. A job
        # goes with its image, or through `transitions.delete_job` (refund first, then files).
        return False

    @admin.display(description="User", ordering="user__email")
    def user_email(self, job):
        return job.user.email

    @admin.display(description="Image", ordering="image__name")
    def image_name(self, job):
        return job.image.name

    @admin.display(description="Cost (USD)", ordering="engine_cost_usd")
    def cost(self, job):
        """The estimated engine cost, to the cent's hundredth ($0.1341); the detail page has
        it to the micro-dollar."""
        return "—" if job.engine_cost_usd is None else f"${job.engine_cost_usd:.4f}"

    @admin.display(description="Result")
    def result_link(self, job):
        url = job.enhanced_url
        if not url:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">Open the result</a>', url)

    @admin.display(description="Staff actions")
    def staff_actions_list(self, job):
        """Who retried or refunded this job by hand, and when."""
        if not job.staff_actions:
            return "—"
        return format_html_join(
            "\n",
            "<div>{} by {} at {}</div>",
            (
                (entry.get("action", "?").capitalize(), entry.get("by", "?"), entry.get("at", "?"))
                for entry in job.staff_actions
            ),
        )

    @admin.action(description="Retry the selected failed jobs now", permissions=["change"])
    def retry_jobs(self, request, queryset):
        done, refused = 0, []
        for job in queryset:
            try:
                transitions.retry_job(job=job, actor=request.user)
                done += 1
            except JobError as exc:
                refused.append(f"{job.pk}: {exc}")
        self._report(request, done, refused, verb="sent to the queue again")

    @admin.action(
        description="Refund the selected jobs (tokens back to the user)", permissions=["change"]
    )
    def refund_jobs(self, request, queryset):
        done, refused = 0, []
        for job in queryset:
            if job.status == JobStatus.REFUNDED:
                refused.append(f"{job.pk}: already refunded.")
                continue
            try:
                transitions.refund_job(
                    job=job, actor=request.user, reason=transitions.REFUNDED_BY_SUPPORT_MESSAGE
                )
                done += 1
            except JobError as exc:
                refused.append(f"{job.pk}: {exc}")
        self._report(request, done, refused, verb="refunded")

    def _report(self, request, done: int, refused: list[str], *, verb: str):
        if done:
            self.message_user(
                request, f"{done} job{'s' if done != 1 else ''} {verb}.", messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(DeletedJob)
class DeletedJobAdmin(admin.ModelAdmin):
    """What deleted jobs left for the ledger: read-only."""

    list_display = (
        "id",
        "user_id",
        "image_id",
        "tier",
        "status",
        "tokens_cost",
        "engine_cost_usd",
        "deleted_at",
    )
    list_filter = ("status", "tier")
    search_fields = ("id", "user_id", "image_id")
    ordering = ("-deleted_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
