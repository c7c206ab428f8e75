"""What a browser sends from a form on a page: its inputs, checked boxes, selected options and
textareas, plus the button pressed (as `name=value` when it has a name)."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attributes):
        attrs = {key: value or "" for key, value in attributes}
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "image", "file"):
                self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, chosen or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def form_fields(page: str, action: str) -> list[tuple[str, str]]:
    """The (name, value) pairs the page's form posting to `action` sends, in order."""
    reader = _FormReader(action)
    reader.feed(page)
    assert reader.fields, f"no form with action {action!r} on the page"
    return reader.fields


def sent(page: str, action: str, changes: dict | None = None, pressed: tuple = ()) -> dict:
    """What the form sends, as the test client takes it (a repeated name becomes a list),
    with `changes` typed over its values (None unticks a box) and `pressed` the (name, value)
    of the button."""
    data: dict = {}
    for name, value in form_fields(page, action):
        data.setdefault(name, []).append(value)
    for name, value in (changes or {}).items():
        if value is None:  # a box unticked
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    if pressed:
        data[pressed[0]] = [pressed[1]]
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}
