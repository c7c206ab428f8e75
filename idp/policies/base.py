from idp.options import NoOptions, parse_options


class PolicyType:
    """What every policy type has; a type sets `name`, `label`, `Options` and `evaluate`."""

    name: str
    label: str
    description: str = ""
    Options: type = NoOptions

    def parse_options(self, mapping):
        return parse_options(self.Options, mapping)
