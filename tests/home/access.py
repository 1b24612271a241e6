from tests.access_rules import CDC_ONLY, Rule

ACCESS = {
    "workbench": Rule(CDC_ONLY),
}
