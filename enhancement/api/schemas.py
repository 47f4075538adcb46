"""The shapes the API speaks (django-ninja schemas): they are the OpenAPI document's."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from enhancement.models import EnhancementTier


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(description="A URI naming the kind of problem ('about:blank': see title)")
    title: str
    status: int
    detail: str
    errors: list[str] | None = Field(None, description="Every message, for a request refused")


class Plan(Schema):
    name: str
    status: str
    api_access: bool
    priority: bool
    tokens_per_month: int
    current_period_end: datetime | None


class Limits(Schema):
    requests_per_minute: int
    orders_per_minute: int
    uploads_per_minute: int
    upload_max_bytes: int
    upload_max_pixels: int


class Me(Schema):
    id: str
    balance: int = Field(description="Tokens now, regeneration included")
    balance_cap: int = Field(description="Regeneration stops at this balance")
    next_token_at: datetime | None = Field(description="When the next free token comes")
    plan: Plan | None
    limits: Limits


class Image(Schema):
    id: str
    name: str
    width: int
    height: int
    size_bytes: int
    format: str
    created_at: datetime
    original_url: str = Field(description="A signed URL of the original; it expires")


class ImagePage(Schema):
    items: list[Image]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class Tier(Schema):
    tier: str
    label: str
    tokens_cost: int
    max_dimension: int
    width: int | None = Field(description="The output's width for this image")
    height: int | None


class OrderIn(Schema):
    tier: EnhancementTier = Field(description="The tier (see GET /tiers for cost and size)")
    auto_adjust: bool = Field(False, description="Automatic light and colour correction too")


class JobResult(Schema):
    width: int | None
    height: int | None
    size_bytes: int | None
    format: str | None


class Job(Schema):
    id: str
    image_id: str
    tier: str
    status: str = Field(description="PENDING, PROCESSING, FAILED (retried), COMPLETED, REFUNDED")
    progress: int = Field(description="0 waiting, 50 running, 100 finished")
    tokens_cost: int
    error: str | None
    next_attempt_at: datetime | None = Field(description="When a failed try is retried")
    result: JobResult | None
    created_at: datetime
    finished_at: datetime | None
