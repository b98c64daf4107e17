"""Which language a brief is in, from its small words: enough to answer a French, German or Spanish
brief in its own language instead of mangling it with English word lists."""

from __future__ import annotations

import re

# Function words that are common in one language and rare in English briefs.
_MARKERS = {
    "fr": {"le", "la", "les", "un", "une", "des", "du", "et", "avec", "dans", "sur", "puis", "pour", "son", "sa", "ses",
           "au", "aux", "est", "qui", "de", "secondes", "lever", "soleil", "vidéo", "publicité"},
    "de": {"der", "die", "das", "ein", "eine", "einen", "und", "mit", "im", "auf", "dann", "über", "durch", "den", "dem",
           "ist", "sekunden", "langer", "kurzes", "stil", "zu", "nach"},
    "es": {"el", "la", "los", "las", "un", "una", "y", "con", "en", "del", "por", "hacia", "luego", "su", "que",
           "segundos", "vídeo", "video", "anuncio", "cuadrado", "al", "atardecer"},
}
_ENGLISH = {"the", "a", "an", "and", "with", "of", "in", "on", "then", "to", "for", "at", "is", "it", "film", "video",
            "shot", "seconds", "second", "make", "into", "over", "his", "her", "their"}

QUESTIONS = {
    "fr": "Je lis encore mal les descriptions en français et je préfère ne pas deviner. Pouvez-vous décrire le film "
          "en anglais (ce qu'on voit, dans quel ordre, combien de secondes) ? "
          "(I plan from English briefs for now: could you describe the film in English?)",
    "de": "Deutsche Beschreibungen lese ich noch nicht zuverlässig, und raten möchte ich nicht. Können Sie den Film auf "
          "Englisch beschreiben (was man sieht, in welcher Reihenfolge, wie viele Sekunden)? "
          "(I plan from English briefs for now: could you describe the film in English?)",
    "es": "Todavía no leo bien las descripciones en español y prefiero no adivinar. ¿Puede describir la película en "
          "inglés (qué se ve, en qué orden, cuántos segundos)? "
          "(I plan from English briefs for now: could you describe the film in English?)",
}


def language_of(text: str) -> str:
    """'en', 'fr', 'de' or 'es': the language whose small words the text uses most (English on a tie)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "en"
    english = sum(w in _ENGLISH for w in words)
    scores = {lang: sum(w in markers for w in words) for lang, markers in _MARKERS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    # accented letters English briefs rarely have tip a close call
    if re.search(r"[éèêàçùœäöüßñ¿¡]", text.lower()):
        best += 1
    return lang if best > english + 1 and best >= 3 else "en"
