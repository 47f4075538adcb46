from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models

from accounts.models import DataExport, User


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


# One accounts section in the back office: allauth registers its email addresses as a section
# of their own (also called "Accounts"); here they are where staff look for them, on each user's
# page, and verification goes through allauth's own path (`confirm_email_addresses`).
admin.site.unregister(EmailAddress)


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    fields = ("email", "primary", "verified")
    readonly_fields = ("verified",)  # confirmed by the owner's link, or by the action below
    extra = 0
    verbose_name = "email address"
    verbose_name_plural = "email addresses"


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
    search_fields = ("email", "name", "id", "stripe_customer_id", "emailaddress__email")
    inlines = (EmailAddressInline,)
    actions = ("confirm_email_addresses",)
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

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # the add page stays Django's two steps

    @admin.action(description="Confirm their email addresses")
    def confirm_email_addresses(self, request, queryset):
        """What a click on the confirmation link does (allauth's own admin action): the address
        is verified and `email_confirmed` is sent, so whatever follows a confirmation follows."""
        confirmed = []
        for address in EmailAddress.objects.filter(user__in=queryset, verified=False):
            if address.set_verified():
                email_confirmed.send(sender=EmailAddress, request=request, email_address=address)
                confirmed.append(address.email)
        if confirmed:
            self.message_user(request, f"Confirmed: {', '.join(confirmed)}.", messages.SUCCESS)
        else:
            self.message_user(request, "No address to confirm.", messages.INFO)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "email" in form.base_fields:
            form.base_fields["email"].required = True  # null in the schema, needed to sign in
        return form


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """Users' "Download my data" exports: their state, never their contents. Deleting one
    deletes its zip (after the commit)."""

    list_display = ("id", "user", "status", "size_bytes", "created_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("id", "user__email")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in DataExport._meta.fields]
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
