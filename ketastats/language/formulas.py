"""The formula grammar: model formulas checked and expanded without evaluating anything.

Grammar (Wilkinson–Rogers, as R and patsy read it, restricted to names)::

    formula  :=  [response] "~" terms
    terms    :=  term (("+" | "-") term)*
    term     :=  factor ((":" | "*") factor)*
    factor   :=  NAME | "1" | "0" | "(" terms ")"
    random   :=  terms "|" NAME                  e.g. "1 | participant_id", "Days | Subject"

``a * b`` expands to ``a + b + a:b``; ``- 1`` or ``+ 0`` removes the intercept. Names must
be plain column names (letters, digits, ``_``); there are no function calls, no ``I()``, no
``C()`` and no Python: transformations are derivations in the plan, and reference levels are
declared with the analysis's ``reference:`` key. The expanded terms are turned into a patsy
design by :func:`design_matrices`, which builds the formula text itself from the checked names
and evaluates it against a frame holding only those columns, with an empty namespace, so
patsy can never reach Python objects.

Example
-------
>>> f = parse_formula("fc ~ time * responder_2wk")
>>> f.response, [":".join(t) for t in f.terms], f.intercept
('fc', ['time', 'responder_2wk', 'time:responder_2wk'], True)
>>> parse_random("Days | Subject").group, parse_random("Days | Subject").terms
('Subject', [('Days',)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z][A-Za-z0-9_]*)|(?P<number>\d+(?:\.\d*)?)|(?P<op>[~+\-*:|()]))")
MAX_LENGTH = 1000
MAX_TERMS = 500
"""Terms a formula may expand to (``a * b * c * ...`` doubles with every factor)."""
MAX_DEPTH = 50
"""Nesting of parentheses."""


class FormulaError(ValueError):
    """A formula outside the grammar; ``code`` is the stable issue code."""

    def __init__(self, code: str, message: str, hint: str | None = None, suggestion: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint
        self.suggestion = suggestion or {}   # plan key → corrected text (random effects moved out of a formula)

    def hint_for(self, keys) -> str | None:
        """The hint for a plan entry with ``keys``: where its random effects go depends on its type
        (``random:`` of a mixed model; an mmrm's ``covariance:``; a type without random effects)."""
        if not self.suggestion:
            return self.hint
        fixed, random = self.suggestion["formula"], self.suggestion["random"]
        if "random" in keys:
            return f'Write formula: "{fixed}" and random: "{random}"'
        if "covariance" in keys:
            return (f'Write formula: "{fixed}"; an mmrm has no random effects: the correlation of a participant\'s '
                    "visits is modelled by covariance: (with subject: and visit:); for a random intercept use "
                    f'type: mixed_model with random: "{random}"')
        return f'Write formula: "{fixed}"; this analysis has no random effects (a mixed_model takes random: "{random}")'


@dataclass
class Formula:
    """An expanded formula: response (or None), ordered terms (tuples of names), intercept flag."""

    text: str
    response: str | None
    terms: list[tuple[str, ...]] = field(default_factory=list)
    intercept: bool = True

    @property
    def names(self) -> list[str]:
        """Every column the formula reads, in order of first appearance."""
        seen: list[str] = [self.response] if self.response else []
        for term in self.terms:
            for name in term:
                if name not in seen:
                    seen.append(name)
        return seen

    def rhs_text(self) -> str:
        """The right-hand side as patsy text built from checked names only."""
        parts = ["1" if self.intercept else "0"] + [":".join(term) for term in self.terms]
        return " + ".join(parts)


@dataclass
class RandomEffects:
    """``terms | group``: random intercept (when ``intercept``) and slopes for ``terms`` by ``group``."""

    text: str
    group: str
    terms: list[tuple[str, ...]]
    intercept: bool = True


def _tokens(text: str) -> list[tuple[str, str]]:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("formula-empty", "the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError("formula-too-long", f"the formula is longer than {MAX_LENGTH} characters")
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            bad = text[position:].strip()[:20]
            raise FormulaError("formula-not-allowed", f"cannot read the formula at {bad!r}",
                               "Formulas use column names, + - * : ( ) ~ and 1 / 0; transform columns with "
                               "a derivation instead of a function call")
        kind = match.lastgroup
        assert kind is not None   # every alternative of TOKEN is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FormulaError("formula-syntax", f"formula {self.text!r} ends too early")
        self.position += 1
        return token

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise FormulaError("formula-syntax", f"unexpected {token[1]!r} in formula {self.text!r}")

    # A term set is (terms, intercept): terms ordered, intercept True / False / None (unspecified).
    def terms(self) -> tuple[list[tuple[str, ...]], bool | None]:
        terms, intercept = self.term()
        while (token := self.peek()) is not None and token[1] in "+-":
            self.take()
            more, more_intercept = self.term()
            if token[1] == "+":
                for t in more:
                    if t not in terms:
                        terms.append(t)
                if more_intercept is not None:
                    intercept = more_intercept
            else:
                terms = [t for t in terms if t not in more]
                if more_intercept:
                    intercept = False
        return terms, intercept

    def term(self):
        terms, intercept = self.factor()
        while (token := self.peek()) is not None and token[1] in ":*":
            self.take()
            right, right_intercept = self.factor()
            if intercept is not None or right_intercept is not None:
                raise FormulaError("formula-syntax", f"1 and 0 cannot be part of an interaction in {self.text!r}")
            if len(terms) * len(right) + len(terms) + len(right) > MAX_TERMS:
                raise FormulaError("formula-too-many-terms", f"formula {self.text!r} expands to more than "
                                   f"{MAX_TERMS} terms", "Write the interactions you need explicitly")
            products = []
            for a in terms:
                for b in right:
                    product = tuple(dict.fromkeys(a + b))
                    if product not in products:
                        products.append(product)
            if token[1] == ":":
                terms = products
            else:
                terms = list(dict.fromkeys(terms + right + products))
        return terms, intercept

    def factor(self):
        kind, value = self.take()
        if kind == "name":
            following = self.peek()
            if following is not None and following[1] == "(":
                raise FormulaError("formula-function-not-allowed",
                                   f"function calls such as {value}(...) are not allowed in formulas",
                                   "Derive the transformed column under derive: and use its name")
            return [(value,)], None
        if kind == "number":
            if value in ("1", "0"):
                return [], value == "1"
            raise FormulaError("formula-not-allowed", f"the number {value} cannot be a term",
                               "Only 1 (intercept) and 0 (no intercept) are allowed")
        if value == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FormulaError("formula-too-deep", f"formula {self.text!r} nests parentheses more than "
                                   f"{MAX_DEPTH} deep")
            inner = self.terms()
            self.depth -= 1
            closing = self.take()
            if closing[1] != ")":
                raise FormulaError("formula-syntax", f"missing ')' in formula {self.text!r}")
            return inner
        raise FormulaError("formula-syntax", f"unexpected {value!r} in formula {self.text!r}")


RANDOM_TERM = re.compile(r"\(\s*([^()|]*?)\s*\|\s*([^()|]*?)\s*\)")
"""An lme4-style random-effects term ``(terms | group)`` written inside a model formula."""


def _random_effects_in_formula(text: str) -> FormulaError | None:
    """``random-effects-in-formula`` when ``text`` holds ``(1 | participant_id)`` (lme4's way):
    in a plan the random part is its own key, ``random: "1 | participant_id"``.

    >>> _random_effects_in_formula("y ~ arm * visit + (1 | pid)").hint
    'Write formula: "y ~ arm * visit" and random: "1 | pid"'
    """
    if "|" not in text:
        return None
    found = RANDOM_TERM.search(text)
    if found is None:
        return FormulaError("random-effects-in-formula", f"'|' cannot be part of a model formula ({text!r}): "
                            "random effects go under random:, not in the formula",
                            "Write the random part as its own key, e.g. random: \"1 | participant_id\"")
    terms, group = found.group(1) or "1", found.group(2)
    fixed = re.sub(r"\s*\+\s*" + RANDOM_TERM.pattern, "", text)    # "... + (1 | g)"
    fixed = re.sub(RANDOM_TERM.pattern + r"\s*\+?\s*", "", fixed).strip()   # "(1 | g) + ..." or "~ (1 | g)"
    if fixed.endswith("~"):
        fixed += " 1"
    return FormulaError("random-effects-in-formula", f"random effects go under random:, not in the formula "
                        f"('{found.group(0)}' in {text!r})",
                        f'Write formula: "{fixed}" and random: "{terms} | {group}"',
                        suggestion={"formula": fixed, "random": f"{terms} | {group}"})


def parse_formula(text: str, require_response: bool = True) -> Formula:
    """Parse ``"y ~ a * b"`` (or ``"~ a * b"`` when ``require_response`` is false).

    Random effects written into the formula, lme4's ``y ~ x + (1 | g)``, are refused with the
    plan's way of writing them (``random-effects-in-formula``: ``random: "1 | g"``)."""
    misplaced = _random_effects_in_formula(text) if isinstance(text, str) else None
    if misplaced is not None:
        raise misplaced
    parser = _Parser(text)
    response = None
    first = parser.peek()
    if first is not None and first[0] == "name" and \
            len(parser.tokens) > 1 and parser.tokens[1][1] == "~":
        response = parser.take()[1]
    if parser.peek() is None or parser.take()[1] != "~":
        raise FormulaError("formula-syntax", f"formula {text!r} needs a '~'", "Write it as 'outcome ~ terms'")
    if require_response and response is None:
        raise FormulaError("formula-syntax", f"formula {text!r} has no outcome before '~'")
    terms, intercept = parser.terms()
    parser.expect_end()
    return Formula(text=text, response=response, terms=terms, intercept=intercept is not False)


def parse_random(text: str) -> RandomEffects:
    """Parse ``"1 | subject"`` or ``"x | subject"`` (correlated intercept and slope)."""
    if isinstance(text, str) and RANDOM_TERM.fullmatch(text.strip()):
        raise FormulaError("formula-syntax", f"random effects {text!r} are written without parentheses here",
                           f'Write random: "{text.strip()[1:-1].strip()}"')
    parser = _Parser(text)
    terms, intercept = parser.terms()
    bar = parser.take()
    if bar[1] != "|":
        raise FormulaError("formula-syntax", f"random effects {text!r} need the form 'terms | group'")
    kind, group = parser.take()
    if kind != "name":
        raise FormulaError("formula-syntax", f"the grouping after '|' in {text!r} must be a column name")
    parser.expect_end()
    if any(len(t) > 1 for t in terms):
        raise FormulaError("formula-not-allowed", f"interactions are not supported in random effects ({text!r})")
    return RandomEffects(text=text, group=group, terms=terms, intercept=intercept is not False)


def formula_error(entry: dict, message: str) -> tuple[str, FormulaError] | None:
    """(key, error): which key of a plan entry (``formula`` or ``random``) holds the text that fails
    with ``message``, and the parser's error (with its hint).

    Specs check their formulas in a model validator, whose error pydantic locates at the whole
    entry; the plan's messages point at the key's own line instead.

    >>> formula_error({"formula": "y ~ x + (1 | g)", "random": "1 | g"}, "random effects go under random:")[0]
    'formula'
    """
    parsers = (("formula", lambda t: parse_formula(t)), ("formula", lambda t: parse_formula(t, False)),
               ("random", parse_random))
    for key, parse in parsers:
        text = entry.get(key)
        if not isinstance(text, str):
            continue
        try:
            parse(text)
        except FormulaError as exc:
            if exc.message[:30] in message:
                return key, exc
    return None


def design_matrices(formula: Formula, frame):
    """Fixed-effects design (a pandas DataFrame carrying patsy's ``design_info``) for ``formula``.

    The frame is reduced to the formula's columns; category columns must already be pandas
    Categoricals with the reference level first; they get treatment coding. Nothing in the
    formula text comes from the user unchecked: it is rebuilt from validated names, and patsy
    sees an empty namespace apart from its own ``C``.
    """
    import patsy
    from patsy.builtins import C

    names = [n for n in formula.names if n != formula.response]
    for name in names:
        if not NAME.fullmatch(name):
            raise FormulaError("formula-not-allowed", f"{name!r} is not a column name")
    data = frame[names].copy() if names else frame.iloc[:, :0].copy()
    text = formula.rhs_text()
    if len(data) == 0:
        from ketastats.errors import AnalysisError, Issue, Location

        raise AnalysisError(Issue("no-observations", "no rows are left to analyse: every row was excluded "
                                  "(see exclusions.csv for the reasons)", Location(path="formula")))
    environment = patsy.EvalEnvironment([{"C": C}])
    try:
        return patsy.dmatrix(text, data, eval_env=environment, NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as exc:
        from ketastats.errors import AnalysisError, Issue, Location

        raise AnalysisError(Issue("design-failed", f"cannot build the design matrix: {exc.message}",
                                  Location(path="formula"))) from None
