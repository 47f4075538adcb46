import factory

from tokens.models import TokensPackage


class TokensPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokensPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    tokens = 10
    price_usd = "2.99"
    stripe_price_id = factory.Sequence(lambda n: f"price_test_{n:06d}")
