import pytest

from tokens.models import UserTokenBalance


@pytest.mark.django_db
def test_every_new_user_gets_a_balance(user):
    assert UserTokenBalance.objects.get(user=user).balance == 0
    assert len(user.pk) == 25 and user.pk.isalnum()
