"""Languages: the codes Whisper knows, their names, and what a BCP 47 tag such as `en-GB`
means for the recogniser (its base language) and for written English (its spelling).

Kept here, not asked of faster-whisper, so that reading a card never loads the recogniser
(tests/test_languages.py checks the table against faster-whisper's own list).
"""

from __future__ import annotations

import re

# Whisper's languages by code (whisper/tokenizer.py LANGUAGES, in its order), English names.
# Multilingual models from large-v3 on also know Cantonese ("yue"); base knows the others.
WHISPER = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian",
    "ko": "Korean", "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish",
    "pl": "Polish", "ca": "Catalan", "nl": "Dutch", "ar": "Arabic", "sv": "Swedish",
    "it": "Italian", "id": "Indonesian", "hi": "Hindi", "fi": "Finnish", "vi": "Vietnamese",
    "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay", "cs": "Czech",
    "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian",
    "la": "Latin", "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak",
    "te": "Telugu", "fa": "Persian", "lv": "Latvian", "bn": "Bengali", "sr": "Serbian",
    "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada", "et": "Estonian",
    "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian",
    "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian",
    "sw": "Swahili", "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala",
    "km": "Khmer", "sn": "Shona", "yo": "Yoruba", "so": "Somali", "af": "Afrikaans",
    "oc": "Occitan", "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi",
    "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek",
    "fo": "Faroese", "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk",
    "mt": "Maltese", "sa": "Sanskrit", "lb": "Luxembourgish", "my": "Myanmar", "bo": "Tibetan",
    "tl": "Tagalog", "mg": "Malagasy", "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian",
    "ln": "Lingala", "ha": "Hausa", "ba": "Bashkir", "jw": "Javanese", "su": "Sundanese",
    "yue": "Cantonese",
}
# What a language calls itself, for labels readers choose from (a captions track).
ENDONYMS = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano",
            "nl": "Nederlands", "pt": "Português", "cy": "Cymraeg", "pl": "Polski", "sv": "Svenska",
            "da": "Dansk", "no": "Norsk", "fi": "Suomi", "ca": "Català", "eu": "Euskara",
            "gl": "Galego", "tr": "Türkçe", "ro": "Română", "cs": "Čeština", "uk": "Українська",
            "ru": "Русский", "el": "Ελληνικά", "ja": "日本語", "zh": "中文", "ar": "العربية"}
AUTO = "auto"
# A language code, optionally with a region or script: en, de, haw, en-GB, pt-BR, zh-Hant.
TAG = re.compile(r"^([a-z]{2,3})(-[A-Za-z0-9]{2,8})*$")
# English written the British way (Oxford spelling aside): the UK and the Commonwealth.
BRITISH_REGIONS = {"GB", "UK", "IE", "AU", "NZ", "ZA", "IN", "SG", "MT"}


def base(tag: str) -> str:
    """The language of a tag, as Whisper names it: 'en-GB' -> 'en'."""
    return tag.split("-", 1)[0].lower()


def name(tag: str) -> str:
    """The language's English name ('fr' -> 'French'); the tag itself when Whisper has none."""
    return WHISPER.get(base(tag), tag)


def label(tag: str) -> str:
    """The language's own name ('de' -> 'Deutsch'), else its English name."""
    return ENDONYMS.get(base(tag), name(tag))


def page_tag(spoken: str, site: str) -> str:
    """The `lang` of a page in the language `spoken` (a card's, or the one detected) on a site
    in `site`: the site's tag when it is the same language with a region ('en' on an 'en-GB'
    site: 'en-GB'), else the spoken one."""
    if spoken in ("", AUTO):
        return site
    return site if base(site) == base(spoken) and "-" not in spoken else spoken


def problem(tag, spoken: bool = False) -> str | None:
    """What is wrong with a language setting, or None. A spoken language (a card's) must be
    one Whisper knows, or `auto`."""
    if spoken and tag == AUTO:
        return None
    if not isinstance(tag, str) or not TAG.match(tag):
        return f"'{tag}' is not a language code such as 'en', 'de' or 'en-GB'"
    if spoken and base(tag) not in WHISPER:
        return (f"'{tag}' is not a language Whisper knows; use one of its codes (such as "
                f"{', '.join(list(WHISPER)[:10])}), or `auto` to have it detected")
    return None


def spelling(tag: str) -> str | None:
    """'british' or 'american' for English tags, None for other languages."""
    if base(tag) != "en":
        return None
    region = tag.split("-")[1].upper() if "-" in tag else ""
    return "british" if region in BRITISH_REGIONS else "american"
