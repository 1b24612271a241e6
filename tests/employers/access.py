from tests.access_rules import CDC_ONLY, EVERYONE, Rule
from tests.builders import make_employer


def employer(cast):
    return [make_employer().pk]


ACCESS = {
    "employers:list": Rule(EVERYONE),
    "employers:create": Rule(CDC_ONLY),
    "employers:detail": Rule(EVERYONE, employer),
    "employers:edit": Rule(CDC_ONLY, employer),
    "employers:confirm_many": Rule(CDC_ONLY, method="post"),
    "employers:register": Rule(CDC_ONLY, employer, method="post"),
    "employers:risk": Rule(CDC_ONLY, employer, method="post"),
    "employers:city_filing": Rule(CDC_ONLY, employer, method="post"),
}
