"""Billing's errors. Each `str(e)` is a sentence a user can read; views show it as a message."""


class BillingError(Exception):
    pass


class PaymentsNotConfigured(BillingError):
    def __init__(self):
        super().__init__(
            "Payments are not configured on this installation, so nothing can be bought here."
        )


class StripeUnavailable(BillingError):
    def __init__(self, detail: str = ""):
        self.detail = detail  # Stripe's own words, for the log and the commands
        super().__init__(
            "Stripe could not be reached or refused the request. Nothing was charged: "
            "please try again in a few minutes."
        )


class NotForSale(BillingError):
    pass


class AlreadySubscribed(BillingError):
    def __init__(self, plan_name: str):
        super().__init__(
            f"You already have the {plan_name} plan. Change or cancel it with Manage billing."
        )


class NoCustomer(BillingError):
    def __init__(self):
        super().__init__("There is nothing to manage yet: you have not bought anything.")
