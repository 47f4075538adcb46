"""Pages of platform apps: my apps, the public directory, an app's page and its actions.

Every change loads the app with its owner in the query (`_own_app`): anyone else gets 404, never
403, and so does everyone for a deleted app. An ACTIVE app's page is public (read-only, with a
button to fork it); any other state is 404 to all but the owner. Input is cleaned by
`forms`, the rules live in `services`; a refused request re-renders its page with the message
and a 400, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from platform_apps import forms, presenters, selectors, services
from platform_apps.models import App, MonetizationModel, Requirement


def _posted(request):
    """The form data of a POST (even an empty one, so the form says what is missing), or None
    for a GET."""
    return request.POST if request.method == "POST" else None


def app_url(app: App) -> str:
    return reverse("apps:detail", kwargs={"app_id": app.pk})


def _own_app(request, app_id: str) -> App:
    app = selectors.owned_app(app_id=app_id, user=request.user)
    if app is None:
        raise Http404("No such app.")
    return app


def _own_requirement(request, app: App, requirement_id: str) -> Requirement:
    return get_object_or_404(Requirement, pk=requirement_id, app=app)


def _own_monetization_model(request, app: App, monetization_id: str) -> MonetizationModel:
    return get_object_or_404(MonetizationModel, pk=monetization_id, app=app)


# --- lists ----------------------------------------------------------------------------------
@login_required
@require_GET
def my_apps(request):
    page = selectors.my_apps_page(user=request.user, page_number=request.GET.get("page"))
    for app in page.object_list:
        app.parent_state = selectors.parent_state(app, request.user)
    return render(request, "platform_apps/my_apps.html", {"page": page})


@require_GET
def directory(request):
    search = selectors.clean_search(request.GET.get("q"))
    page = selectors.directory_page(search=search, page_number=request.GET.get("page"))
    return render(request, "platform_apps/directory.html", {"page": page, "search": search})


# --- one app --------------------------------------------------------------------------------
def _render_app(request, app: App, *, status: int = 200, requirement_form=None):
    page = selectors.app_page(app=app, viewer=request.user)
    context = {
        "app": app,
        "page": page,
        "can_fork": services.can_fork(app=app, user=request.user),
    }
    if page.is_owner:
        context["transitions"] = presenters.transitions_for(
            app.status, services.ALLOWED_TRANSITIONS
        )
        context["requirement_form"] = requirement_form or forms.RequirementForm()
        for requirement in page.requirements:
            requirement.triage_form = forms.TriageForm(
                initial={"priority": requirement.priority, "status": requirement.status},
                auto_id=f"r-{requirement.pk}-%s",
            )
    return render(request, "platform_apps/app_detail.html", context, status=status)


@require_GET
def detail(request, app_id: str):
    app = selectors.visible_app(app_id=app_id, user=request.user)
    if app is None:
        raise Http404("No such app.")
    return _render_app(request, app)


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    form = forms.AppForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            app = services.create_app(
                owner=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                domain=form.cleaned_data["domain"],
            )
        except services.AppError as exc:
            form.add_error("domain", exc.message)
        else:
            messages.success(request, f"“{app.name}” was created as a draft.")
            return redirect("apps:detail", app_id=app.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "platform_apps/app_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, app_id: str):
    app = _own_app(request, app_id)
    form = forms.AppForm(_posted(request), app=app)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_app(
                app=app,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                domain=form.cleaned_data["domain"],
            )
        except services.AppGone as exc:
            raise Http404(exc.message) from None
        except services.AppError as exc:
            form.add_error("domain", exc.message)
        else:
            messages.success(request, "Saved.")
            return redirect("apps:detail", app_id=app.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "platform_apps/app_form.html", {"form": form, "app": app}, status=status)


@login_required
@require_POST
def change_status(request, app_id: str):
    app = _own_app(request, app_id)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what the app should become.")
        return _render_app(request, app, status=400)
    old = app.status
    try:
        app = services.change_status(app=app, to=form.cleaned_data["status"])
    except services.AppGone as exc:
        raise Http404(exc.message) from None
    except services.TransitionNotAllowed as exc:
        messages.error(request, exc.message)
        return _render_app(request, app, status=400)
    if app.status != old:
        messages.success(request, f"“{app.name}” {presenters.transition_done(old, app.status)}")
    return redirect("apps:detail", app_id=app.pk)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, app_id: str):
    app = _own_app(request, app_id)
    if request.method == "POST":
        services.delete_app(app=app)
        messages.success(request, f"“{app.name}” was deleted.")
        return redirect("apps:mine")
    return render(request, "platform_apps/app_confirm_delete.html", {"app": app})


@login_required
@require_http_methods(["GET", "POST"])
def fork(request, app_id: str):
    app = selectors.visible_app(app_id=app_id, user=request.user)
    if app is None or not services.can_fork(app=app, user=request.user):
        raise Http404("No such app.")
    form = forms.ForkForm(_posted(request), initial={"name": services.fork_name(app)})
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.fork_app(app=app, user=request.user, name=form.cleaned_data["name"])
        except services.ForkNotAllowed:
            raise Http404("No such app.") from None
        messages.success(request, f"“{copy.name}” is your copy of “{app.name}”, as a draft.")
        return redirect("apps:detail", app_id=copy.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "platform_apps/fork_form.html",
        {
            "app": app,
            "form": form,
            "requirements_count": app.requirements.count(),
            "monetization_count": app.monetization_models.count(),
        },
        status=status,
    )


# --- requirements ---------------------------------------------------------------------------
@login_required
@require_POST
def requirement_add(request, app_id: str):
    app = _own_app(request, app_id)
    form = forms.RequirementForm(request.POST)
    if not form.is_valid():
        return _render_app(request, app, requirement_form=form, status=400)
    try:
        services.add_requirement(
            app=app,
            description=form.cleaned_data["description"],
            priority=form.cleaned_data["priority"],
        )
    except services.AppGone as exc:
        raise Http404(exc.message) from None
    messages.success(request, "Requirement added.")
    return redirect("apps:detail", app_id=app.pk)


@login_required
@require_http_methods(["GET", "POST"])
def requirement_edit(request, app_id: str, requirement_id: str):
    app = _own_app(request, app_id)
    requirement = _own_requirement(request, app, requirement_id)
    form = forms.RequirementEditForm(
        _posted(request),
        initial={
            "description": requirement.description,
            "priority": requirement.priority,
            "status": requirement.status,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.update_requirement(requirement=requirement, **form.cleaned_data)
        except services.AppGone as exc:
            raise Http404(exc.message) from None
        if updated.version != requirement.version:
            messages.success(request, f"Saved as version {updated.version}.")
        else:
            messages.success(request, "Saved.")
        return redirect("apps:detail", app_id=app.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "platform_apps/requirement_form.html",
        {
            "app": app,
            "requirement": requirement,
            "form": form,
            "revisions": requirement.revisions.order_by("-version"),
        },
        status=status,
    )


@login_required
@require_POST
def requirement_triage(request, app_id: str, requirement_id: str):
    app = _own_app(request, app_id)
    requirement = _own_requirement(request, app, requirement_id)
    form = forms.TriageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a priority and a status from the lists.")
        return _render_app(request, app, status=400)
    try:
        services.update_requirement(requirement=requirement, **form.cleaned_data)
    except services.AppGone as exc:
        raise Http404(exc.message) from None
    messages.success(request, "Requirement updated.")
    return redirect(f"{app_url(app)}#requirement-{requirement.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def requirement_delete(request, app_id: str, requirement_id: str):
    app = _own_app(request, app_id)
    requirement = _own_requirement(request, app, requirement_id)
    if request.method == "POST":
        services.delete_requirement(requirement=requirement)
        messages.success(request, "Requirement deleted.")
        return redirect("apps:detail", app_id=app.pk)
    return render(
        request,
        "platform_apps/requirement_confirm_delete.html",
        {"app": app, "requirement": requirement},
    )


# --- monetization ---------------------------------------------------------------------------
def _save_monetization(request, app: App, monetization_model: MonetizationModel | None):
    form = forms.MonetizationForm(_posted(request), monetization_model=monetization_model)
    if request.method == "POST" and form.is_valid():
        try:
            if monetization_model is None:
                services.add_monetization_model(app=app, pricing=form.pricing())
            else:
                services.update_monetization_model(
                    monetization_model=monetization_model, pricing=form.pricing()
                )
        except services.AppGone as exc:
            raise Http404(exc.message) from None
        except services.PricingInvalid as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Pricing saved.")
            return redirect(f"{app_url(app)}#pricing")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "platform_apps/monetization_form.html",
        {
            "app": app,
            "form": form,
            "monetization_model": monetization_model,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def monetization_add(request, app_id: str):
    return _save_monetization(request, _own_app(request, app_id), None)


@login_required
@require_http_methods(["GET", "POST"])
def monetization_edit(request, app_id: str, monetization_id: str):
    app = _own_app(request, app_id)
    return _save_monetization(request, app, _own_monetization_model(request, app, monetization_id))


@login_required
@require_http_methods(["GET", "POST"])
def monetization_delete(request, app_id: str, monetization_id: str):
    app = _own_app(request, app_id)
    monetization_model = _own_monetization_model(request, app, monetization_id)
    if request.method == "POST":
        services.delete_monetization_model(monetization_model=monetization_model)
        messages.success(request, "Pricing model deleted.")
        return redirect(f"{app_url(app)}#pricing")
    return render(
        request,
        "platform_apps/monetization_confirm_delete.html",
        {
            "app": app,
            "monetization_model": monetization_model,
            "price": presenters.price_text(monetization_model),
        },
    )
