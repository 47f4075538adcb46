from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models

from accounts.models import User


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()


class UserChangeAdminForm(UserChangeForm):
    image = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        email = self.cleaned_data.get("email")
        return email.strip().lower() if email else None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users sign in by email; the balance is shown, never edited (tokens.services only)."""

    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "email",
        "name",
        "balance",
        "email_verified",
        "is_active",
        "is_staff",
        "created_at",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "email_verified", "created_at")
    list_select_related = ("token_balance",)
    search_fields = ("email", "name", "id", "stripe_customer_id")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "balance",
        "email_verified",
        "last_login",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "image", "stripe_customer_id")}),
        ("Tokens", {"fields": ("balance",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("email_verified", "last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )

    @admin.display(description="Tokens", ordering="token_balance__balance")
    def balance(self, obj):
        balance = getattr(obj, "token_balance", None)
        return balance.balance if balance is not None else "–"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "email" in form.base_fields:
            form.base_fields["email"].required = True  # null in the schema, needed to sign in
        return form
