"""Pages of the site as a whole: the home page (it shows tiers, packs and plans of several apps,
so it lives here, above the apps) and the health check."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from billing.models import SubscriptionPlan
from config import health
from enhancement.jobs.tiers import tier_options
from tokens.models import TokensPackage


@require_safe
def home(request):
    options = sorted(tier_options(), key=lambda option: option.max_dimension)
    largest = options[-1].max_dimension if options else 1
    tiers = [
        {
            "code": option.value,
            "label": option.label,
            "max_dimension": option.max_dimension,
            "tokens_cost": option.tokens_cost,
            "share": round(100 * option.max_dimension / largest),
        }
        for option in options
    ]
    context = {
        "tiers": tiers,
        "packages": TokensPackage.objects.filter(active=True),
        "plans": SubscriptionPlan.objects.filter(active=True),
        "regen_interval_minutes": settings.TOKEN_REGEN_INTERVAL_MINUTES,
        "welcome_tokens": settings.TOKEN_WELCOME_GRANT,
        "regen_cap": settings.TOKEN_REGEN_CAP,
        "regen_per_day": (24 * 60) // settings.TOKEN_REGEN_INTERVAL_MINUTES,
    }
    return render(request, "home.html", context)


@never_cache
@require_safe
def healthz(request):
    report = health.run_checks()
    return JsonResponse(report, status=200 if report["status"] == health.OK else 503)


# --- what is kept, the terms, how to reach us -------------------------------------------------
def _legal_context() -> dict:
    return {
        "contact_email": settings.CONTACT_EMAIL,
        "site_url": settings.SITE_URL.rstrip("/"),
        # Set by the data export (accounts); the privacy page names the figure in force.
        "export_days": getattr(settings, "DATA_EXPORT_LINK_DAYS", 7),
        "gemini_enabled": bool(settings.GEMINI_API_KEY),
    }


@require_safe
def privacy(request):
    return render(request, "pages/privacy.html", _legal_context())


@require_safe
def terms(request):
    return render(request, "pages/terms.html", _legal_context())


@require_safe
def contact(request):
    return render(request, "pages/contact.html", _legal_context())
