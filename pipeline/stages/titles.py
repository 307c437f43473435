"""Chapter titles an editor would keep, in one spelling.

A chapter opens with the interviewer's question, so its title is first made from that
question, turned into a heading the way an editor writes one: the question word kept, the
guest named, the verb inflected ("How often do you write, Helen?" -> "How often Helen
writes"; "What is the hardest part of the winter?" -> "The hardest part of the winter").
A yes/no question stays a question ("Do your neighbours ever complain?" -> "Do Grace's
neighbours ever complain?"). When there is no question to work from, the title is the
answer's main noun phrase ("The varroa mite"), never two keyphrases glued with "and".

Verbs are inflected by lemminflect (English forms from its own dictionary, no model to
download); it also says which words can be verbs, which is all the parsing these short
questions need. English titles then follow the site's spelling (spell()): British for
`en-GB` and the Commonwealth, American otherwise, with breame's word lists.
"""

from __future__ import annotations

import re

from pipeline import languages

TITLE_WORDS = (3, 8)
WH = {"how", "why", "what", "when", "where", "who", "which", "whose"}
# Words that may follow the question word as part of it ("how often", "what kind of").
_WH_MORE = {"much", "many", "often", "long", "far", "big", "old", "soon", "exactly", "else",
            "kind", "sort", "type", "part", "of"}
_DO = {"do": "VBP", "does": "VBZ", "did": "VBD"}
_THIRD_PERSON = {"do": "does", "are": "is", "were": "was", "have": "has"}
_BE = {"am", "is", "are", "was", "were"}
_MODAL = {"can", "could", "would", "will", "should", "might", "must", "shall", "may"}
_HAVE = {"have", "has", "had"}
_PRONOUNS = {"you", "we", "they", "he", "she", "it", "i", "people", "everyone", "anyone"}
_DETERMINERS = {"the", "a", "an", "your", "our", "their", "his", "her", "its", "my", "this",
                "that", "these", "those", "some", "any", "every", "each", "all", "most"}
_OPENERS = {"so", "and", "but", "now", "well", "finally", "okay", "ok", "then", "also",
            "lastly", "right", "first", "firstly", "next"}
# Where a heading that is too long may be cut: before a phrase that qualifies the rest.
_CUTS = {"for", "to", "in", "on", "at", "with", "about", "who", "that", "which", "when",
         "because", "if", "while", "after", "before", "since", "now", "today", "this", "and",
         "every", "each", "last", "next", "or", "so"}
# A heading ends before a clause of its own (who..., before..., because...), and without
# "now" or "today".
_CLAUSES = {"who", "which", "because", "before", "after", "while", "since", "if", "whereas"}
_DROPPED_AT_END = {"now", "today", "then", "again", "too", "there"}
# A heading cut short never ends on a word that leads into what was cut.
_ENDS_BADLY = {"and", "or", "but", "nor", "so", "of", "the", "a", "an", "for", "to", "in", "on",
               "at", "with", "about", "by", "from"}
_TELL_ME = re.compile(r"^(?:can|could|would|will) you (?:tell|talk to) (?:me|us) (?:a (?:bit|little) "
                      r"|some(?:thing)? |more )*(?:more )?about (.+)$", re.I)
# British words breame maps wrongly in some senses: a verb and a noun spelt apart in Britain
# ("to practise", "a practice"), or one word with two meanings (a tyre, to tire).
_AMBIGUOUS = {"practice", "practise", "license", "licence", "program", "programme", "tire",
              "meter", "check", "curb", "draft", "story", "storey"}


def from_question(question: str, guest: str | None = None) -> str | None:
    """A heading made from the question that opens a chapter, or None when the question
    does not turn into one of TITLE_WORDS words."""
    words = _clauses(question)
    if not words:
        return None
    name = guest.split()[0] if guest else None
    first = words[0].lower()
    if match := _TELL_ME.match(" ".join(words)):
        title = _noun_phrase(match[1].split(), name)
    elif first in WH:
        title = _wh(words, name)
    elif _is_aux(first):  # yes/no: stays a question, the guest named
        said = _pronouns(words, name)
        if name and len(words) > 1 and words[1].lower() == "you":  # "Do you" -> "Does Grace"
            said[:2] = [_THIRD_PERSON.get(first, first).capitalize(), name]
        title = " ".join(said) + "?"
    else:
        return None
    return _fitted(title)


def from_phrase(phrase: str) -> str | None:
    """A noun phrase as a heading: "varroa mite" -> "The varroa mite"."""
    words = phrase.split()
    if not words:
        return None
    if len(words) < TITLE_WORDS[0] and words[0].lower() not in _DETERMINERS and not words[0][0].isupper():
        words = ["the", *words]
    return _fitted(" ".join(words))


def _clauses(question: str) -> list[str]:
    """The question's words, without openers, a name called at its end, or a second question
    joined on ("..., and where do you sell it?")."""
    text = re.sub(r"\?+[\"')\]]*$", "", question.strip())
    text = re.sub(r",\s*(?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)?$", "", text)  # "..., Helen"
    text = re.split(r",?\s+(?:and|or|but)\s+(?=(?:how|why|what|when|where|who|do|does|did|is|are|can)\b)",
                    text, flags=re.I)[0]
    words = [w for w in text.replace(",", " , ").split()]
    while words and (words[0].lower().strip(",") in _OPENERS or words[0] == ","):
        words = words[1:]
    return [w for w in words if w != ","]


def _wh(words: list[str], name: str | None) -> str:
    """A wh-question as a heading: the auxiliary after the subject, the verb inflected."""
    lower = [w.lower() for w in words]
    # The question word and what belongs to it ("how much honey", "what advice"): up to an
    # auxiliary within the next few words; without one the question asks for its subject.
    end = next((k for k in range(1, min(len(words), 5)) if _is_aux(lower[k])), None)
    if end is None:
        return " ".join(_pronouns(words, name))  # "How much money goes into recycling"
    asked, aux, rest = words[:end], lower[end], words[end + 1:]
    if asked == ["What"] or asked == ["what"]:
        if aux in _BE and not any(w.endswith("ing") and _can_be_verb(w[:-3] or w) for w in lower[end + 1:]):
            return _noun_phrase(rest, name)  # "What is the hardest part of X" -> the part
    subject, after = _subject(rest, base_form=aux in _DO or aux in _MODAL)
    if not subject:
        return " ".join(words)
    said_by = _pronouns(subject, name, as_subject=True)
    singular = _singular(subject, said_by)
    if aux in _DO:
        if not after:
            return " ".join(asked + said_by + [words[end]])
        adverbs, verb, tail = _verb(after)
        form = "VBD" if aux == "did" else "VBZ" if singular else "VBP"
        after = adverbs + [_inflect(verb, form)] + tail
        return " ".join(asked + said_by + _pronouns(after, name))
    if aux in _BE:
        aux = {"is": "are", "are": "is", "was": "were", "were": "was"}[aux] \
            if (aux in ("is", "was")) != singular else aux
    elif aux in _HAVE:
        aux = "has" if singular and aux == "have" else aux
    return " ".join(asked + said_by + [aux] + _pronouns(after, name))


def _is_aux(word: str) -> bool:
    return word in _DO or word in _BE or word in _MODAL or word in _HAVE


def _subject(words: list[str], base_form: bool) -> tuple[list[str], list[str]]:
    """The subject after an auxiliary (a pronoun, a name, or a noun phrase up to its verb:
    a base form after do or a modal, any form after be or have)."""
    if not words:
        return [], []
    if words[0].lower() in _PRONOUNS:
        return words[:1], words[1:]
    for k in range(1, len(words)):
        verb = _can_be_verb(words[k]) if base_form else _any_verb_form(words[k])
        if verb and words[k - 1].lower() not in _DETERMINERS:
            return words[:k], words[k:]
    return words, []


def _any_verb_form(word: str) -> bool:
    from lemminflect import getAllLemmas

    return "VERB" in getAllLemmas(word.lower()) or word.lower().endswith("ing")


def _verb(words: list[str]) -> tuple[list[str], str, list[str]]:
    """(adverbs before it, the verb, the rest) of the words after a subject."""
    for k, word in enumerate(words):
        if _can_be_verb(word):
            return words[:k], word, words[k + 1:]
    return [], words[0], words[1:]


def _can_be_verb(word: str) -> bool:
    """A verb's base form, as a word of a question after do/does/did must be."""
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word.lower()).get("VERB", ())
    return word.lower() in lemmas or word.lower() in ("be", "have", "do")


def _inflect(verb: str, form: str) -> str:
    from lemminflect import getInflection

    if form == "VBP":
        return verb
    found = getInflection(verb.lower(), form)
    return found[0] if found else verb


def _singular(subject: list[str], said_by: list[str]) -> bool:
    word = subject[-1].lower()
    if word in ("you", "we", "they", "i", "people"):
        return said_by != subject and said_by[-1][:1].isupper()  # "you" became a name
    from lemminflect import getAllLemmas

    noun = getAllLemmas(word).get("NOUN", ())
    return not (noun and word not in noun)  # plural nouns differ from their lemma


def _pronouns(words: list[str], name: str | None, as_subject: bool = False) -> list[str]:
    """The guest named where the question says "you"."""
    if not name:
        return list(words)
    from lemminflect import getAllLemmas

    out = []
    for k, word in enumerate(words):
        plain = word.lower()
        follows = words[k + 1].lower() if k + 1 < len(words) else ""
        if plain == "you" and (as_subject or k == 0 or "VERB" in getAllLemmas(follows)):
            out.append(name)
        elif plain in ("your", "yours"):
            out.append(f"{name}'s")
        elif plain == "you":
            out.append("them")
        elif plain == "yourself":
            out.append("themselves")
        else:
            out.append(word)
    return out


def _noun_phrase(words: list[str], name: str | None) -> str:
    return " ".join(_pronouns(words, name))


def _fitted(title: str) -> str | None:
    """The heading within TITLE_WORDS words (cut before a qualifying phrase when too long),
    starting with a capital; None when it cannot be."""
    words = title.rstrip(".").split()
    low, high = TITLE_WORDS
    question = bool(words) and words[-1].endswith("?")
    if question:
        words[-1] = words[-1][:-1]
    clause = next((k for k in range(low, len(words)) if words[k].lower() in _CLAUSES), None)
    words = words[:clause]
    while len(words) > low and words[-1].lower() in _DROPPED_AT_END:
        words = words[:-1]
    if question and words:
        words[-1] += "?"
    while len(words) > high:
        cut = max((k for k in range(low, len(words)) if words[k].lower().strip("?") in _CUTS),
                  default=None)
        if cut is None:
            return None
        words = words[:cut]
        while len(words) > low and words[-1].lower().strip(",;:?") in _ENDS_BADLY:  # "... staff and"
            words = words[:-1]
        if question:
            words[-1] = words[-1].rstrip("?,;:") + "?"
    if len(words) < low:
        return None
    text = " ".join(words).strip(" ,;:")
    return text[0].upper() + text[1:]


def spell(title: str, language: str) -> str:
    """A title in the site's spelling of English ('en-GB': colour, organise; 'en-US' and
    plain 'en': color, organize); other languages as they are."""
    variety = languages.spelling(language)
    if variety is None:
        return title
    from breame.data.spelling_constants import AMERICAN_ENGLISH_SPELLINGS, BRITISH_ENGLISH_SPELLINGS

    table = AMERICAN_ENGLISH_SPELLINGS if variety == "british" else BRITISH_ENGLISH_SPELLINGS

    def one(match: re.Match) -> str:
        word = match[0]
        other = table.get(word.lower())
        if not other or word.lower() in _AMBIGUOUS:
            return word
        return other.capitalize() if word[0].isupper() else other

    return re.sub(r"[A-Za-z]+", one, title)
