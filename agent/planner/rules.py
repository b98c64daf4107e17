"""The offline rule-based planner: a brief in plain English -> a Storyboard, with no model at all.

It is the default brain, so it must be predictable: the same brief always gives the same storyboard
(seeds come from a hash of the brief), and every default it picks is said in `notes`.

What it reads (case-insensitive, anywhere in the brief):
- aspect ratio: vertical / portrait / 9:16 / TikTok / Reels / Shorts -> 9:16; square / 1:1 -> 1:1;
  widescreen / landscape format / YouTube / 16:9 -> 16:9 (default).
- length: "30-second", "30 s", "half a minute", "1 minute", "a minute and a half", "90 seconds";
  per shot: "8 shots of 5 seconds", "5-second shots".
- shot count: "three-shot", "5 shots", "in four shots", "a single shot"; fps: "24 fps".
- look: cinematic, 35mm, anime, watercolor, noir, documentary, vintage, neon, pastel, moody, ... ->
  the film's style guide (carried into every shot's prompt).
- camera and framing words per sentence ("drone" -> aerial, "close-up", "slow push in" -> dolly_in,
  "handheld", "orbit", "pan"); in a sentence with no picture content they apply to the whole film.
- narration: "with narration", "voice-over", or quoted lines (a quote after "text"/"caption"/"title"
  /"tagline" is an on-screen caption instead).
- order: "open with", "end on"/"end with", "finally", "then".
- "no camera shake", "no text", "without people" -> every shot's negative prompt.

The picture content is split into beats (sentences, clauses joined by "then", ";" or a comma that
starts a new picture), one shot per beat, shaped to the shot count and total length: durations are
spread evenly (0.1 s steps, total exact), no shot exceeds `max_shot_seconds`, long or few beats are
covered by extra shots (wide, then closer), surplus beats are merged.
In each beat: the noun phrase before the first verb is the subject, the verb phrase the action, an
"in/at/on the ..." phrase the setting; atmosphere and lighting words are collected.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

from storyboards.schema import Shot, Storyboard

if TYPE_CHECKING:
    from agent.settings import AgentSettings

# ----------------------------------------------------------------------------- numbers

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-five": 25, "thirty": 30,
    "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90, "a dozen": 12, "dozen": 12,
    "single": 1,
}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
    "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10,
}
_NUMWORDS = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUM = rf"(\d+(?:\.\d+)?|{_NUMWORDS})"


def parse_number(text: str) -> float | None:
    text = text.strip().lower()
    try:
        return float(text)
    except ValueError:
        return float(NUMBER_WORDS[text]) if text in NUMBER_WORDS else None


# ----------------------------------------------------------------------------- vocabulary

# (pattern, ratio, strong). Strong words conflict with each other; weak ones (a platform name that
# has several formats) only decide when nothing strong is said.
ASPECT_PATTERNS: list[tuple[str, str, bool]] = [
    (r"\b9\s*[:x×/]\s*16\b", "9:16", True),
    (r"\b16\s*[:x×/]\s*9\b", "16:9", True),
    (r"\b1\s*[:x×/]\s*1\b", "1:1", True),
    (r"\bvertical\b", "9:16", True),
    (r"\bportrait\b(?!\s+of\b)", "9:16", True),
    (r"\btik\s?-?toks?\b", "9:16", True),
    (r"\b(?:instagram\s+|ig\s+|insta\s+)?reels?\b", "9:16", True),
    (r"\b(?:youtube\s+)?shorts\b", "9:16", True),
    (r"\b(?:instagram|insta)\s+stor(?:y|ies)\b", "9:16", True),
    (r"\bsnapchat\b", "9:16", True),
    (r"\b(?:instagram|insta|ig)\s+square\b|\bsquare(?:\s+(?:instagram|insta|ig))?(?=\s+(?:video|format|aspect|crop|frame|post|loop|version|clip|ratio|film|ad|animation|reel|gif))|\bsquare\s*(?:format|crop|aspect)\b|\bin\s+square\b|\bsquare\s*$|(?:^|(?<=[,:;(]))\s*square\b(?=\s*(?:[,:;.)!]|$))|^\s*square\b", "1:1", True),
    (r"\bwide\s?screen\b", "16:9", True),
    (r"\blandscape\s+(?:format|mode|orientation|video|aspect)\b|\bin\s+landscape\b", "16:9", True),
    (r"\bhorizontal\b", "16:9", True),
    (r"\byoutube\b(?!\s+shorts)", "16:9", False),
    (r"\b(?:instagram|insta)\b(?!\s+(?:reels?|stor|square))", "1:1", False),
]

# Camera moves: longest phrases first. A "phrase" matched at the start of a beat takes its trailing
# "shot of"/"on" with it ("a drone shot of the coast" -> subject "the coast").
CAMERA_PHRASES: list[tuple[str, str]] = [
    (r"slow(?:ly)?\s+push(?:es|ing)?[\s-]+in(?:\s+on)?|push(?:es|ing)?[\s-]+in(?:\s+on)?|dolly(?:ing)?[\s-]+in(?:\s+on)?|track(?:s|ing)?\s+in(?:\s+on)?|move[s]?\s+in\s+on|creep(?:s|ing)?\s+in", "dolly_in"),
    (r"pull(?:s|ing)?[\s-]+(?:back|out)(?:\s+from)?|dolly(?:ing)?[\s-]+out|track(?:s|ing)?\s+out", "dolly_out"),
    (r"(?:slow\s+|crash\s+)?zoom(?:s|ing)?[\s-]+in(?:\s+on)?|(?:slow\s+)?zoom(?:s|ing)?\s+into", "zoom_in"),
    (r"(?:slow\s+)?zoom(?:s|ing)?[\s-]+out", "zoom_out"),
    (r"(?:camera\s+)?pan(?:s|ning)?\s+(?:to\s+the\s+)?left", "pan_left"),
    # bare "pan" only as a camera word ("pan across", "slow pan", "camera pans"), never "a frying pan"
    (r"(?:camera\s+)?pan(?:s|ning)?\s+(?:to\s+the\s+)?right|pan(?:s|ning)?\s+(?:across|over|along)|(?:slow|quick|whip|camera)\s+pan(?:s|ning)?|^pan(?:ning)?\b|panning(?:\s+shot)?|panoramic", "pan_right"),
    (r"(?:camera\s+)?tilt(?:s|ing)?\s+up", "tilt_up"),
    (r"(?:camera\s+)?tilt(?:s|ing)?\s+down", "tilt_down"),
    (r"drone(?:\s+(?:shot|footage|view))?|aerial(?:\s+(?:shot|footage|view))?|fly-?over|from\s+the\s+air", "aerial"),
    (r"orbit(?:s|ing)?(?:\s+(?:shot|around))?|circl(?:es|ing)\s+(?:around|round)|360(?:-degree|°)?\s+(?:shot|orbit|turn)|arc\s+shot", "orbit"),
    (r"crane\s+(?:shot|up|down)|jib(?:\s+shot)?|rising\s+shot|camera\s+rises", "crane"),
    (r"hand-?held(?:\s+(?:camera|shot|footage))?|shaky\s+cam(?:era)?", "handheld"),
    (r"tracking(?:\s+shot)?|steadicam(?:\s+shot)?|camera\s+follows|follow(?:ing)?\s+shot|dolly\s+shot", "tracking"),
    (r"static(?:\s+(?:shot|camera))?|locked[\s-]off(?:\s+shot)?|tripod\s+shot|still\s+camera", "static"),
]
FRAMING_PHRASES: list[tuple[str, str]] = [
    (r"extreme\s+close[\s-]?ups?|ecu|macro(?:\s+shot)?", "extreme_close_up"),
    (r"close[\s-]?ups?|close\s+shot|detail\s+shot|tight\s+shot", "close_up"),
    (r"extreme\s+wide(?:\s+shot)?|extreme\s+long\s+shot|vista", "extreme_wide"),
    (r"establishing\s+shot|wide(?:[\s-]angle)?\s+shot|wide\s+angle|wide\s+view|long\s+shot|full\s+shot|wide", "wide"),
    (r"medium(?:\s+close)?\s+shot|mid[\s-]shot|medium|waist[\s-]up", "medium"),
    (r"low[\s-]angle(?:\s+shot)?|from\s+below|worm'?s[\s-]eye(?:\s+view)?", "low_angle"),
    (r"high[\s-]angle(?:\s+shot)?|from\s+above", "high_angle"),
    (r"dutch(?:\s+(?:angle|tilt))?(?:\s+shot)?|canted(?:\s+angle)?", "dutch_angle"),
    (r"overhead\s+(?:shot|view|angle)|top[\s-]down(?:\s+(?:shot|view))?|bird'?s[\s-]eye(?:\s+view)?", "overhead"),
]
# Only these framing words also count when they stand alone (plain "wide" or "medium" does not:
# "a wide river").
_FRAMING_BARE_OK = {"extreme_close_up", "close_up", "low_angle", "high_angle", "dutch_angle", "overhead"}

STYLE_WORDS: list[tuple[str, str]] = [
    (r"\bfilm[\s-]noir\b|\bnoir\b", "film noir, black and white, high contrast, hard shadows"),
    (r"\bcinematic\b", "cinematic"),
    (r"\b35\s?mm\b", "35mm film grain"),
    (r"\b16\s?mm\b", "16mm film"),
    (r"\bsuper\s?8\b|\b8\s?mm\b", "Super 8 home movie look"),
    (r"\bfilm\s+grain\b", "film grain"),
    (r"\banime\b", "anime style, cel shading"),
    (r"\bwatercolou?r\b", "watercolor painting style"),
    (r"\boil\s+painting\b", "oil painting style"),
    (r"\bdocumentary\b", "documentary style, natural light"),
    (r"\bvintage\b|\bretro\b", "vintage look, faded colors"),
    (r"\bneon\b", "neon colors"),
    (r"\bcyberpunk\b", "cyberpunk aesthetic"),
    (r"\bpastel\b", "pastel palette"),
    (r"\bmoody\b", "moody, low-key"),
    (r"\bblack[\s-]and[\s-]white\b|\bmonochrome\b|\bb&w\b", "black and white"),
    (r"\bclaymation\b|\bstop[\s-]motion\b", "stop-motion claymation"),
    (r"\b3d\s+anim(?:ated|ation)\b|\bcgi\b", "3D animation"),
    (r"\bpixel\s+art\b", "pixel art"),
    (r"\bcomic(?:\s+book)?\b", "comic book style"),
    (r"\bminimalist\b|\bminimal\b", "minimalist"),
    (r"\bphoto-?realistic\b|\bhyper-?realistic\b|\brealistic\b", "photorealistic"),
    (r"\bvhs\b", "VHS look"),
    (r"\bvaporwave\b|\bsynthwave\b", "synthwave palette"),
    (r"\bdreamy\b|\bethereal\b", "dreamy, soft focus"),
    (r"\bwarm\s+(?:tones|palette|colou?rs)\b", "warm color palette"),
    (r"\bcool\s+(?:tones|palette|colou?rs)\b|\bcold\s+(?:tones|palette|colou?rs)\b", "cool color palette"),
    (r"\bteal\s+and\s+orange\b", "teal and orange grade"),
    (r"\bglossy\b|\bcommercial\s+look\b", "glossy commercial look"),
    (r"\bsketch(?:ed|y)?\b|\bpencil\s+drawing\b", "pencil sketch style"),
]
_STYLE_OF = re.compile(r"\bin\s+the\s+style\s+of\s+([^,.;:!?]+)", re.I)

LIGHTING_WORDS: list[tuple[str, str]] = [
    (r"\bgolden\s+hour\b", "warm golden hour light"),
    (r"\bsunset\b|\bdusk\b|\btwilight\b", "warm low sunset light"),
    (r"\bsunrise\b|\bdawn\b|\bdaybreak\b", "soft dawn light"),
    (r"\bmoonlit\b|\bmoonlight\b", "cool moonlight"),
    (r"\bneon[\s-]lit\b|\bneon\s+(?:lights?|signs?)\b", "neon light"),
    (r"\bcandle[\s-]?lit\b|\bcandlelight\b|\bcandles\b", "warm candlelight"),
    (r"\bfire[\s-]?light\b|\bcampfire\b|\bfireplace\b", "warm firelight"),
    (r"\bstreet\s?lights?\b|\bstreet\s?lamps?\b", "pools of streetlight"),
    (r"\bbacklit\b|\bbacklight\b", "backlight"),
    (r"\bsilhouetted?\b", "silhouette against a bright background"),
    (r"\bdim(?:ly)?(?:[\s-]lit)?\b|\bdark\b", "dim, low-key light"),
    (r"\bsunny\b|\bsunlit\b|\bsunshine\b|\bbright\b", "bright sunlight"),
    (r"\bovercast\b", "soft overcast light"),
    (r"\blow[\s-]key\b", "low-key lighting"),
    (r"\bhigh[\s-]key\b", "high-key lighting"),
    (r"\bstudio\s+light(?:ing)?\b|\bstudio\b", "clean studio lighting"),
    (r"\bgod\s+rays\b|\bvolumetric\b|\blight\s+rays\b", "volumetric light rays"),
    (r"\bfluorescent\b", "flickering fluorescent light"),
    (r"\bat\s+night\b|\bnight[\s-]?time\b|\bmidnight\b", "night, artificial light"),
    (r"\blightning\b", "flashes of lightning"),
]
ATMOSPHERE_WORDS: list[tuple[str, str]] = [
    (r"\bmist(?:y)?\b", "misty"), (r"\bfog(?:gy)?\b", "foggy"), (r"\brain(?:y|ing|s)?\b", "rainy"),
    (r"\bstorm(?:y|s)?\b", "stormy"), (r"\bsnow(?:y|ing|s)?\b", "snowy"), (r"\bcalm\b", "calm"),
    (r"\bserene\b", "serene"), (r"\bpeaceful\b", "peaceful"), (r"\btense\b|\btension\b", "tense"),
    (r"\beerie\b|\bcreepy\b", "eerie"), (r"\bmelanchol(?:y|ic)\b|\bsad\b", "melancholic"),
    (r"\bjoyful\b|\bhappy\b|\bcheerful\b", "joyful"), (r"\bplayful\b|\bfun\b", "playful"),
    (r"\benergetic\b|\bupbeat\b|\bfast[\s-]paced\b|\bpunchy\b|\bhype\b", "energetic"),
    (r"\bchaotic\b", "chaotic"), (r"\bquiet\b", "quiet"), (r"\blonely\b|\blone\b", "lonely"),
    (r"\bromantic\b", "romantic"), (r"\bmysterious\b", "mysterious"), (r"\bominous\b", "ominous"),
    (r"\bnostalgic\b", "nostalgic"), (r"\bepic\b", "epic"), (r"\bcos?zy\b", "cozy"),
    (r"\bhazy\b|\bhaze\b", "hazy"), (r"\bdusty\b", "dusty"), (r"\bwindy\b|\bwind\b", "windy"),
    (r"\bgloomy\b", "gloomy"), (r"\bmoody\b", "moody"), (r"\bfestive\b", "festive"),
    (r"\bbustling\b|\bbusy\b|\bcrowded\b", "bustling"), (r"\bmagical\b", "magical"),
    (r"\bsurreal\b", "surreal"), (r"\bdreamy\b", "dreamy"), (r"\bmeditative\b", "meditative"),
]
TECHNICAL_WORDS: list[tuple[str, str]] = [
    (r"\bslow[\s-]?mo(?:tion)?\b", "slow motion"),
    (r"\btime[\s-]?lapse\b", "time-lapse"),
    (r"\bshallow\s+depth\s+of\s+field\b|\bbokeh\b", "shallow depth of field"),
    (r"\bdeep\s+focus\b", "deep focus"),
    (r"\b4k\b|\bhigh\s+detail\b|\bultra\s+detailed\b", "highly detailed"),
    (r"\blens\s+flares?\b", "lens flare"),
    (r"\bmotion\s+blur\b", "motion blur"),
]
ENERGETIC = re.compile(
    r"\b(energetic|upbeat|fast[\s-]paced|punchy|dynamic|hype|action|exciting|quick\s+cuts|fast|rapid|bold|lively|sporty)\b", re.I
)
CALM = re.compile(
    r"\b(moody|slow|calm|dreamy|melanchol\w*|meditative|peaceful|serene|contemplative|gentle|quiet|noir|nostalgic|lonely|romantic|sad|somber|sombre|relaxing|soothing|elegant)\b",
    re.I,
)
NARRATION_WORDS = re.compile(r"\b(with\s+(?:a\s+)?narration|narrat(?:ed|ion|or)|voice[\s-]?over|vo\b|voiced)\b", re.I)
NO_NARRATION = re.compile(r"\b(?:no|without)\s+(?:any\s+)?(?:narration|voice[\s-]?over|narrator)\b", re.I)
_NEGATIVE = re.compile(
    r"\b(?:no|without|avoid(?:ing)?|never\s+show|don'?t\s+show|do\s+not\s+show|don'?t\s+want|do\s+not\s+want)\s+(?:any\s+)?"
    r"([a-z][a-z'\- ]*?)(?=\s*(?:[,.;:!?)]|$)|\s+(?:and|or|but|please|in|on|at|for|so|anywhere|at\s+all)\b)",
    re.I,
)
_NOT_NEGATIVES = re.compile(
    r"^(?:narration|voice[\s-]?over|narrator|music|sound|audio|dialogue|more|longer|less|shorter|need|problem|idea|rush|matter)\b", re.I
)

FORMAT_NOUNS = {
    "ad", "advert", "advertisement", "commercial", "video", "film", "movie", "clip", "reel", "short", "loop",
    "sequence", "montage", "documentary", "doc", "story", "teaser", "trailer", "promo", "animation",
    "animatic", "piece", "spot", "explainer", "vlog", "intro", "outro", "short-film", "gif", "sizzle",
    "showreel", "storyboard", "cinemagraph", "tiktok", "reels", "short.", "edit", "highlights", "recap",
    "compilation", "tribute", "tour", "timelapse", "time-lapse", "slideshow", "lookbook", "ident", "bumper",
}
_HEADER_LINK = re.compile(r"^(?:for|about|of|showing|featuring|where|in\s+which|that\s+shows|on|starring|with)\b\s*", re.I)
_REQUEST = re.compile(
    r"^\s*(?:hey|hi|ok|okay)?[\s,]*(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:make|create|generate|produce|render|give\s+me|i\s+want|i'?d\s+like|i\s+would\s+like|we\s+need|i\s+need|we\s+want|build|shoot|direct|do|plan|write|let'?s\s+make)"
    r"\s+(?:me\s+|us\s+)?",
    re.I,
)
DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "our", "my", "your", "this", "that", "these", "those", "some", "two", "three", "four", "five", "several", "many", "each", "every"}
PRONOUNS = {"he", "she", "they", "it", "we", "him", "them"}
_SETTING_PREPS = {"in", "inside", "at", "on", "within", "outside", "under", "beneath", "underneath", "near", "by", "atop", "amid", "among"}
_SETTING_BARE = {
    "dawn", "dusk", "night", "sunset", "sunrise", "noon", "midnight", "twilight", "daybreak", "home", "sea",
    "work", "school", "space", "stage", "midday", "nightfall", "daylight", "town", "camp", "church", "golden",
    "first", "last", "sea", "rest", "sundown", "moonrise",
}
COMMON_VERBS = set("""
walk walks walking run runs running pour pours pouring fly flies flying sit sits sitting stand stands standing
look looks looking turn turns turning open opens opening hold holds holding dance dances dancing jump jumps
smile smiles drive drives ride rides swim swims read reads write writes fall falls rise rises light lights
enter enters leave leaves wait waits watch watches step steps climb climbs cross crosses play plays sing sings
cry cries laugh laughs eat eats drink drinks sip sips hand hands pull pulls push pushes lift lifts drop drops
throw throws catch catches spin spins glow glows flicker flickers shine shines burn burns melt melts grow grows
bloom blooms crash crashes break breaks appear appears emerge emerges fade fades arrive arrives sleep sleeps
wake wakes reveal reveals show shows wander wanders race races chase chases hug hugs kiss kisses wave waves
point points type types pause pauses stare stares gaze gazes hover hovers float floats drift drifts sail sails
land lands roll rolls slide slides swirl swirls sparkle sparkles explode explodes pop pops splash splashes
stir stirs bake bakes cook cooks cut cuts paint paints draw draws build builds fix fixes carry carries
greet greets meet meets run sprint sprints hurry hurries crawl crawls leap leaps dive dives soar soars
bounce bounces shake shakes nod nods blink blinks breathe breathes sigh sighs whisper whispers shout shouts
speak speaks talk talks listen listens hear hears see sees find finds discover discovers search searches
reach reaches touch touches grab grabs place places put puts set sets unwrap unwraps unbox unboxes
serve serves taste tastes smell smells kick kicks hit hits score scores win wins lose loses celebrate celebrates
gather gathers collect collects plant plants water waters harvest harvests feed feeds pet pets
shuffle shuffles stumble stumbles rush rushes glide glides zip zips skate skates ski skis surf surfs
hike hikes paddle paddles row rows steer steers park parks stop stops start starts begin begins end ends
close closes lock locks knock knocks ring rings buzz buzzes beep beeps hum hums flash flashes blaze blazes
wash washes crash dash dashes roar roars howl howls bark barks purr purrs chirp chirps
exchange exchanges share shares embrace embraces toast toasts cheer cheers clap claps bow bows kneel kneels
pose poses march marches fight fights argue argues marry marries travel travels explore explores
train trains practice practices work works study studies rest rests relax relaxes jog jogs dribble dribbles
sweep sweeps scroll scrolls tap taps swipe swipes spill spills fill fills drip drips boil boils fry fries
grill grills slice slices chop chops mix mixes knead kneads sprinkle sprinkles
is are was were becomes become transforms transform morphs morph
""".split())
# Plural nouns that end in "s" and commonly follow another noun ("city lights" is not "city" + verb).
PLURAL_NOUNS = set("""
lights leaves waves clouds streets trees stars birds people eyes hands buildings flowers mountains hills
rooftops roofs windows doors cars bikes boats ships shadows reflections colors colours lines shapes
petals drops bubbles sparks flames ashes crowds kids children friends dancers players workers
beans cups plates dishes bottles cans boxes shelves books pages letters words signs screens
details textures patterns fields forests rivers lakes oceans beaches dunes rocks stones bricks tiles
glasses sunglasses jeans clothes shoes boots gloves hats
""".split())
_ING_NOUNS = {
    "morning", "evening", "building", "ceiling", "painting", "clothing", "lightning", "ring", "king", "thing",
    "something", "nothing", "everything", "anything", "spring", "string", "wing", "wedding", "sibling",
    "pudding", "icing", "frosting", "setting", "lighting", "opening", "ending", "beginning", "awning",
    "bedding", "earring", "ping", "sling", "swing", "viking", "darling", "dumpling", "railing", "stocking",
    "sing", "bling", "offering", "gathering", "clearing", "crossing", "landing", "being", "feeling",
    "living", "dining", "parking", "wring",
}
_CUE_OPEN = re.compile(r"^(?:and\s+)?(?:open(?:s|ing)?(?:\s+(?:shot|scene))?\s*(?:with|on|:)|start(?:s|ing)?\s+(?:with|on)|begin(?:s|ning)?\s+(?:with|on)|first(?:ly)?,?|at\s+the\s+start,?|to\s+open,?)\s*", re.I)
_CUE_END = re.compile(
    r"^(?:and\s+)?(?:end(?:s|ing)?\s+(?:with|on)|close(?:s)?\s+(?:with|on)|closing\s+(?:on|with|shot:?)|finish(?:es|ing)?\s+(?:with|on)|final\s+shot:?|"
    r"(?:and\s+)?finally,?|lastly,?|at\s+the\s+end,?|in\s+the\s+end,?|to\s+finish,?|wrap\s+up\s+with)\s*",
    re.I,
)
_CUE_THEN = re.compile(r"^(?:and\s+)?(?:then|next|after\s+that|afterwards|later|meanwhile|cut\s+to|and)\b,?\s*", re.I)
_SHOW_PREFIX = re.compile(
    r"^(?:we\s+see|you\s+see|show(?:s|ing)?(?:\s+us)?|(?:a|an|the)?\s*shot\s+of|footage\s+of|(?:a\s+)?scene\s+(?:of|with)|there\s+(?:is|are)|"
    r"(?:a|an)\s+(?:view|glimpse|look)\s+(?:of|at)|(?:a|an)\s+(?:image|picture)\s+of)\s+",
    re.I,
)
_CAPTION_BEFORE = re.compile(r"(?:text|caption|title|tagline|slogan|words|reading|reads|headline|card|sign|saying|super)\s*:?\s*$", re.I)
_BEAT_START = {
    "a", "an", "the", "then", "finally", "lastly", "next", "close-up", "closeup", "close", "cut", "end", "ending",
    "open", "opening", "we", "she", "he", "they", "it", "his", "her", "their", "our", "wide", "drone", "aerial",
    "slow", "macro", "extreme", "medium", "overhead", "low", "high", "tracking", "pan", "zoom", "later",
    "meanwhile", "back", "after", "and", "finish", "closing", "static", "handheld", "orbit", "push", "pull",
    "dolly", "tilt", "crane", "track", "follow", "circle", "establishing", "show", "we", "cut", "dutch",
}
_QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|(?:(?<=^)|(?<=[\s:(]))'([^']+?)'(?=[\s.,;:!?)]|$)|‘([^’]+)’")
_MARK = re.compile(r"⟦(\d+)⟧")

_LIST_MARKER = re.compile(
    r"(?:^|(?<=[.!?\n])\s*|(?<=[.!?]\s))[ \t]*(?:(?:shot|scene|beat|part)\s*#?\d+\s*(?:[:.)\-–—]|\s(?=[A-Za-z]))|\d{1,2}\s*[.)](?!\d)|[-*•–—])[ \t]*",
    re.I,
)

DEFAULT_SECONDS = 15.0
DEFAULT_FPS = 24
DEFAULT_ASPECT = "16:9"
DEFAULT_STYLE = "cinematic, natural colors"


# ----------------------------------------------------------------------------- small finders


def _find_first(patterns: list[tuple[str, str]], text: str, bare_ok: set[str] | None = None) -> tuple[str, re.Match] | None:
    best: tuple[str, re.Match] | None = None
    for pattern, value in patterns:
        for m in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.I):
            if bare_ok is not None and value not in bare_ok and not re.search(r"shot|angle|view|up|eye", m.group(0), re.I):
                continue  # "wide"/"medium" alone describe things, not framing
            if best is None or m.start() < best[1].start():
                best = (value, m)
            break
    return best


def find_camera(text: str) -> str | None:
    found = _find_first(CAMERA_PHRASES, text)
    return found[0] if found else None


def find_framing(text: str) -> str | None:
    found = _find_first(FRAMING_PHRASES, text, bare_ok=_FRAMING_BARE_OK)
    return found[0] if found else None


def find_words(patterns: list[tuple[str, str]], text: str) -> list[str]:
    """Every vocabulary value mentioned in `text`, in the order the text mentions them, once each."""
    hits: list[tuple[int, str]] = []
    for pattern, value in patterns:
        m = re.search(pattern, text, re.I)
        if m:
            hits.append((m.start(), value))
    out: list[str] = []
    for _, value in sorted(hits):
        if value not in out:
            out.append(value)
    return out


def find_style(text: str) -> list[str]:
    styles = find_words(STYLE_WORDS, text)
    for m in _STYLE_OF.finditer(text):
        styles.append(f"in the style of {m.group(1).strip()}")
    return styles


def find_aspects(text: str) -> list[tuple[str, str, bool, int]]:
    """[(ratio, the words that said it, strong, position)] in order of appearance."""
    hits = []
    for pattern, ratio, strong in ASPECT_PATTERNS:
        for m in re.finditer(pattern, text, re.I):
            hits.append((ratio, m.group(0).strip(), strong, m.start()))
    return sorted(hits, key=lambda h: h[3])


def find_negatives(text: str) -> list[str]:
    out: list[str] = []
    for m in _NEGATIVE.finditer(text):
        item = m.group(1).strip(" -'").lower()
        if not item or _NOT_NEGATIVES.match(item) or len(item.split()) > 5:
            continue
        if item not in out:
            out.append(item)
    return out


def seed_for(key: str, shot_id: str) -> int:
    digest = hashlib.sha256(f"{key}|{shot_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _squash(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return text.strip(" ,;:-—–")


def _the(np: str) -> str:
    """'a lighthouse keeper' -> 'the lighthouse keeper' (for a subject carried into the next beat)."""
    return re.sub(r"^(?:a|an)\s+", "the ", np, flags=re.I)


# ----------------------------------------------------------------------------- durations and lengths


@dataclass
class _Lengths:
    total: list[tuple[float, str]] = field(default_factory=list)      # (seconds, words)
    per_shot: list[tuple[float, str]] = field(default_factory=list)
    counts: list[tuple[int, str]] = field(default_factory=list)
    fps: int | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


def _read_lengths(text: str) -> _Lengths:
    out = _Lengths()
    taken: list[tuple[int, int]] = []

    def free(m: re.Match) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    def take(m: re.Match) -> None:
        taken.append((m.start(), m.end()))

    sec = r"(?:seconds?|secs?|sec|s)\b"
    # "8 shots of 5 seconds (each)"
    for m in re.finditer(rf"\b{NUM}[\s-]+shots?\s*(?:of|at|x|×|each)?\s*(?:about\s+|around\s+|roughly\s+)?{NUM}[\s-]*{sec}(?:\s+each)?", text, re.I):
        n, s = parse_number(m.group(1)), parse_number(m.group(2))
        if n and s:
            out.counts.append((int(n), m.group(0)))
            out.per_shot.append((s, m.group(0)))
            take(m)
    # "5-second shots", "5 seconds each", "each 5 seconds"
    for m in re.finditer(rf"\b{NUM}[\s-]*{sec}\s*(?:long\s+)?(?:shots?|each|per\s+shot|apiece)\b|\beach\s+(?:shot\s+)?(?:about\s+)?{NUM}[\s-]*{sec}", text, re.I):
        if not free(m):
            continue
        s = parse_number(m.group(1) or m.group(2))
        if s:
            out.per_shot.append((s, m.group(0)))
            take(m)
    for pattern, value in [
        (r"\b(?:a|one)\s+(?:minute|min)\s+and\s+a\s+half\b|\bone\s+and\s+a\s+half\s+minutes?\b|\b1\.5[\s-]*(?:minutes?|mins?)\b", 90.0),
        (r"\bhalf\s+a\s+minute\b|\bhalf[\s-]minute\b", 30.0),
        (r"\b(?:a|one)[\s-]+minute\b|\b(?:a|one)[\s-]+min\b", 60.0),
    ]:
        for m in re.finditer(pattern, text, re.I):
            if free(m):
                out.total.append((value, m.group(0)))
                take(m)
    for m in re.finditer(rf"\b{NUM}[\s-]*(?:minutes?|mins?)\b(?:\s+and\s+{NUM}[\s-]*{sec})?", text, re.I):
        if free(m):
            v = parse_number(m.group(1))
            extra = parse_number(m.group(2)) if m.group(2) else 0
            if v:
                out.total.append((v * 60 + (extra or 0), m.group(0)))
                take(m)
    for m in re.finditer(rf"(?<!['’])\b{NUM}([\s-]*){sec}", text, re.I):
        if not free(m):
            continue
        v = parse_number(m.group(1))
        unit = m.group(0)[len(m.group(1)) + len(m.group(2)):]
        # "the 80s", "1990s", "'70s look" are decades, not seconds.
        if unit.lower() == "s" and not m.group(2) and v is not None and (v >= 1000 or (v % 10 == 0 and 20 <= v <= 90 and re.match(r"\s*(?:style|look|vibe|aesthetic|music|fashion|era|film|disco|synth|movie|tv|retro|kid)", text[m.end():], re.I))):
            continue
        if v is not None and 0 < v <= 600:
            out.total.append((v, m.group(0)))
            take(m)
    for m in re.finditer(rf"\b(?:in|across|over|with|using)\s+{NUM}\s+(?:shots|scenes|parts|beats|cuts)\b|\b(?!a\b|an\b){NUM}[\s-]+(?:shots?|scenes?|cuts)\b", text, re.I):
        if not free(m):
            continue
        v = parse_number(m.group(1) or m.group(2))
        word = (m.group(1) or m.group(2)).lower()
        if v and word not in {"a", "an"}:
            if v == 1 and re.match(r"\s+of\b", text[m.end():]):
                continue
            out.counts.append((int(v), m.group(0)))
            take(m)
    for m in re.finditer(r"\b(?:a\s+)?single(?:[\s-]+(?:continuous\s+)?(?:shot|take))\b|\bone\s+continuous\s+(?:shot|take)\b|\bone[\s-]take\b|\boner\b", text, re.I):
        if free(m):
            out.counts.append((1, m.group(0)))
            take(m)
    m = re.search(r"\b(\d{1,2})\s*(?:fps|frames?\s+(?:per|a)\s+second)\b", text, re.I)
    if m:
        out.fps = int(m.group(1))
        take(m)
    out.spans = taken
    return out


def distribute(total: float, n: int) -> list[float]:
    """`total` seconds over `n` shots, evenly, in 0.1 s steps, summing exactly to `total` (to 0.1 s)."""
    tenths = int(round(total * 10))
    base, extra = divmod(tenths, n)
    # the extra tenths go to the middle shots, so openings and endings keep the even pace
    order = sorted(range(n), key=lambda i: (abs(i - (n - 1) / 2), i))
    out = [base] * n
    for i in order[:extra]:
        out[i] += 1
    return [t / 10 for t in out]


# ----------------------------------------------------------------------------- beats


@dataclass
class Beat:
    text: str
    subject: str = ""
    action: str = ""
    setting: str = ""
    atmosphere: list[str] = field(default_factory=list)
    lighting: list[str] = field(default_factory=list)
    technical: list[str] = field(default_factory=list)
    camera: str | None = None
    framing: str | None = None
    cue: str | None = None               # "open" | "end"
    narration: list[str] = field(default_factory=list)
    caption: str | None = None
    pronoun_subject: bool = False

    @property
    def has_picture(self) -> bool:
        return bool(self.subject or self.action or self.setting)


def _remove_phrase(text: str, m: re.Match) -> str:
    before, after = text[: m.start()], text[m.end():]
    # A camera/framing phrase that opens the beat takes its "shot of"/"on" along:
    # "a drone shot of the coast" -> "the coast".
    if re.fullmatch(r"\s*(?:(?:and\s+)?(?:then\s+)?(?:an?|the)\s+)?(?:(?:slow|quick|fast|smooth|gentle|sweeping|tight|big|dramatic)\s+)?", before, re.I):
        after = re.sub(r"^\s*(?:shot|view|angle|footage|camera)?\s*(?:of|on|over|across|around|to|at|into)?\s+", " ", after, flags=re.I)
        return _squash(after)
    return _squash(before + " " + after)


def _is_verb(words: list[str], i: int) -> bool:
    w = words[i].lower().strip(",.;:!?")
    prev = words[i - 1].lower().strip(",.;:!?") if i > 0 else ""
    if prev in DETERMINERS or prev in {"of", "with", "and", "for", "to"} or prev.endswith(("'s", "’s", "s'")):
        return False  # "the fisherman's hands": a possessive is followed by a noun
    if w in COMMON_VERBS:
        return True
    if len(w) > 4 and w.endswith("ing") and w not in _ING_NOUNS:
        return True
    if (
        len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous"))
        and w not in PLURAL_NOUNS and prev not in _SETTING_PREPS and not prev.endswith("'s")
    ):
        return True
    return False


def _is_setting_start(words: list[str], i: int) -> bool:
    w = words[i].lower()
    if w not in _SETTING_PREPS or i + 1 >= len(words):
        return False
    nxt = words[i + 1].strip(",.;:!?")
    return nxt.lower() in DETERMINERS or nxt.lower() in _SETTING_BARE or (nxt[:1].isupper() and nxt.lower() not in PRONOUNS)


def _clean_setting(words: list[str]) -> str:
    text = " ".join(words)
    # "in a sunny cafe" -> "a sunny cafe"; times of day keep their preposition: "at dawn".
    m = re.match(r"^(?:in|inside|on|at|within)\s+(.*)$", text, re.I)
    if m and m.group(1).split()[0].lower() in DETERMINERS:
        return _squash(m.group(1))
    return _squash(text)


def parse_beat(text: str, quotes: list[str] | None = None) -> Beat:
    """One beat of picture: camera/framing/cues taken out, then subject / action / setting."""
    quotes = quotes or []
    beat = Beat(text=text)
    work = text

    # quoted lines: captions after "text:"/"title", else narration
    for m in list(_MARK.finditer(work))[::-1]:
        line = quotes[int(m.group(1))]
        before = work[: m.start()]
        if _CAPTION_BEFORE.search(before):
            beat.caption = line
            before = re.sub(r"(?:with|and)?\s*(?:the|a)?\s*(?:on[\s-]screen\s+)?(?:text|caption|title|tagline|slogan|words|reading|reads|headline|card|sign|saying|super)\s*:?\s*$", "", before, flags=re.I)
        else:
            beat.narration.insert(0, line)
            before = re.sub(r"(?:\b(?:says?|said|saying|whispers?|narrat\w*|voice[\s-]?over)\s*:?)\s*$", "", before, flags=re.I)
        work = before + " " + work[m.end():]
    work = _squash(work)

    for regex, kind in ((_CUE_OPEN, "open"), (_CUE_END, "end"), (_CUE_THEN, None)):
        m = regex.match(work)
        if m:
            beat.cue = beat.cue or kind
            work = work[m.end():]
    work = _squash(work)

    cam = _find_first(CAMERA_PHRASES, work)
    if cam:
        beat.camera = cam[0]
        work = _remove_phrase(work, cam[1])
    frm = _find_first(FRAMING_PHRASES, work, bare_ok=_FRAMING_BARE_OK)
    if frm:
        beat.framing = frm[0]
        work = _remove_phrase(work, frm[1])
    # a second camera phrase after the framing was removed ("close-up, slow push in")
    cam = _find_first(CAMERA_PHRASES, work)
    if cam and not beat.camera:
        beat.camera = cam[0]
        work = _remove_phrase(work, cam[1])

    beat.technical = find_words(TECHNICAL_WORDS, work)
    for pattern, _ in TECHNICAL_WORDS:
        work = re.sub(rf"\b(?:in\s+)?(?:{pattern})", " ", work, flags=re.I)
    work = _STYLE_OF.sub(" ", work)
    work = re.sub(r"\bin\s+(?:black\s+and\s+white|colou?r|slow\s+motion)\b", " ", work, flags=re.I)
    work = re.sub(r"\bcinematic(?:ally)?\b", " ", work, flags=re.I)
    beat.lighting = find_words(LIGHTING_WORDS, work)
    beat.atmosphere = find_words(ATMOSPHERE_WORDS, work)
    # the look belongs to the film's style guide, not to the subject or setting
    for pattern, _ in STYLE_WORDS:
        work = re.sub(
            rf"(?:,\s*|\b(?:in\s+)?(?:an?\s+)?)?(?:{pattern})(?![\s-]+(?:lit|lights?|signs?)\b)(?:[\s-]+(?:colou?rs|palette|style|look|tones|aesthetic|vibes?|feel))?",
            " ", work, flags=re.I,
        )

    for regex in (_CUE_END, _CUE_OPEN, _CUE_THEN, _SHOW_PREFIX):  # cues can follow a removed camera phrase
        m = regex.match(work)
        if m:
            if regex is _CUE_END:
                beat.cue = "end"
            elif regex is _CUE_OPEN:
                beat.cue = beat.cue or "open"
            work = work[m.end():]
    work = _squash(work)
    m = _SHOW_PREFIX.match(work)
    if m:
        work = _squash(work[m.end():])

    words = work.split()
    if not words:
        return beat
    if words[0].lower() in PRONOUNS:
        beat.pronoun_subject = True
        words = words[1:]
        verb_at = 0
    else:
        verb_at = next((i for i in range(1, len(words)) if _is_verb(words, i)), None)
        # "then lights the lamp": no subject, the previous beat's carries on
        if len(words) > 1 and words[0].lower() in COMMON_VERBS and words[1].lower() in DETERMINERS | {"up", "down", "out", "in", "off", "away", "back", "around", "over", "into", "through", "across", "to", "toward", "towards", "past"}:
            verb_at = 0
    if verb_at is None:
        # no verb: "the cup on the table" -> subject + setting
        set_at = next((i for i in range(1, len(words)) if _is_setting_start(words, i)), None)
        beat.subject = _squash(" ".join(words[:set_at]))
        beat.setting = _clean_setting(words[set_at:]) if set_at else ""
        return beat
    subject_words = words[:verb_at]
    if verb_at == 0:
        beat.pronoun_subject = True
    pre_setting: list[str] = []
    for i in range(1, len(subject_words)):
        lw = subject_words[i].lower()
        nxt = subject_words[i + 1].lower() if i + 1 < len(subject_words) else ""
        # "a cat in the garden sleeps": "in the ..." is where; "a man in a red coat" is what he wears
        if _is_setting_start(subject_words, i) and (lw != "in" or nxt not in {"a", "an"}) and lw not in {"with", "by"}:
            subject_words, pre_setting = subject_words[:i], subject_words[i:]
            break
    while subject_words and subject_words[-1].lower().strip(",") in {"who", "that", "which", "and", "slowly", "quickly", "then", "also", "is", "are"}:
        subject_words = subject_words[:-1]
    rest = words[verb_at:]
    set_at = next((i for i in range(1, len(rest)) if _is_setting_start(rest, i)), None)
    action_words = rest[:set_at] if set_at else rest
    post_setting = rest[set_at:] if set_at else []
    # the setting ends where a new clause starts ("in the cafe while steam rises" keeps "while ..." in the action)
    if post_setting:
        cut = next((i for i, w in enumerate(post_setting) if w.lower() in {"while", "as", "and", "where", "before", "until"} and i > 1), None)
        if cut:
            action_words = action_words + post_setting[cut:]
            post_setting = post_setting[:cut]
    beat.subject = _squash(" ".join(subject_words))
    beat.action = _squash(" ".join(action_words))
    settings = [s for s in (_clean_setting(pre_setting) if pre_setting else "", _clean_setting(post_setting) if post_setting else "") if s]
    beat.setting = ", ".join(settings)
    return beat


def sentences(text: str) -> list[str]:
    """Sentences and ;-separated parts, without their closing punctuation (planner and feedback share it)."""
    parts = (p.strip().rstrip(".!?;").strip() for p in re.split(r"(?<=[.!?;])\s+|;\s*|\n+", text))
    return [p for p in parts if p]


def _split_beats(body: str) -> list[str]:
    pieces: list[str] = []
    for sentence in sentences(body):
        parts = re.split(r"(?:\s*,\s*|\s+)(?=(?:and\s+)?(?:then|finally|lastly|afterwards|after\s+that)\b)", sentence, flags=re.I)
        for part in parts:
            # a comma starts a new beat when what follows reads like a new picture
            chunks = [c.strip() for c in part.split(",")]
            current = chunks[0]
            for chunk in chunks[1:]:
                words = chunk.split()
                if len(words) >= 3 and words[0].lower() in _BEAT_START and len(current.split()) >= 2:
                    pieces.append(current)
                    current = chunk
                else:
                    current = f"{current}, {chunk}"
            pieces.append(current)
    return [p.strip(" ,") for p in pieces if p.strip(" ,")]


def _is_modifier_only(text: str) -> bool:
    """A sentence that only sets the look ("Moody, cinematic."), with no picture in it."""
    rest = text
    for patterns in (STYLE_WORDS, ATMOSPHERE_WORDS, LIGHTING_WORDS, TECHNICAL_WORDS):
        for pattern, _ in patterns:
            rest = re.sub(pattern, " ", rest, flags=re.I)
    for pattern, _ in CAMERA_PHRASES + FRAMING_PHRASES:
        rest = re.sub(rf"(?<![\w-])(?:{pattern})(?![\w-])", " ", rest, flags=re.I)
    rest = _STYLE_OF.sub(" ", rest)
    rest = re.sub(
        r"\b(and|or|very|with|a|an|the|look(?:ing)?|feel(?:ing)?|vibes?|tone|style|styled|colou?rs?|palette|please|lots|of|shot|shots|on|"
        r"film|grain|aesthetic|mood|throughout|all|every|each|use|using|keep|it|make|lighting|light|camera|moves?|movement|angles?|"
        r"narration|narrated|voice[\s-]?over|overall|really|super|quite|bit|little|some|in|is|should|be|feel|like|kind|sort|music|"
        r"pace|paced|edit|editing|cuts?|transitions?|crossfades?|dissolves?|fades?|format|version|ratio|aspect|for)\b",
        " ", rest, flags=re.I,
    )
    rest = re.sub(r"[^\w]+", " ", rest)
    return not rest.strip()


# ----------------------------------------------------------------------------- the plan


@dataclass
class PlanResult:
    storyboard: Storyboard
    notes: list[str] = field(default_factory=list)
    question: str | None = None


def _header_split(sentence: str) -> tuple[bool, str, str]:
    """Is this sentence a header ("A 30-second ad for a coffee brand")? -> (is_header, kind, topic)."""
    text = _REQUEST.sub("", sentence).strip()
    words = text.split()
    for i, w in enumerate(words[:8]):
        lw = w.lower().strip(",.:;!?")
        if i > 0 and _is_verb(words, i) and lw not in FORMAT_NOUNS:
            return False, "", ""  # "a dog runs in a short loop" is a picture, not a header
        if lw not in FORMAT_NOUNS:
            continue
        rest = " ".join(words[i + 1:])
        if not rest or w.endswith((",", ":")) or _HEADER_LINK.match(rest):
            topic = _HEADER_LINK.sub("", rest, count=1).strip(" ,:")
            kind = " ".join(words[: i + 1])
            return True, kind, topic
    return False, "", ""


def _title(brief: str, header: str | None, first_beat: Beat | None, spans_removed: str) -> str:
    if header and re.search(r"\b(?:for|about|of|showing|featuring|where|starring)\b", header, re.I):
        source = header
    elif first_beat is not None:
        source = " ".join(p for p in (first_beat.subject, first_beat.action) if p)
    else:
        source = header or spans_removed
    source = _MARK.sub("", source)
    source = _REQUEST.sub("", source)
    source = re.sub(r"^\s*(?:a|an|the)\s+", "", source, flags=re.I)
    source = re.sub(r"\b(?:with\s+(?:a\s+)?)?(?:narration|voice[\s-]?over)\b", "", source, flags=re.I)
    source = re.sub(r",\s*(?=(?:of|for|about|with)\b)", " ", source)
    source = _squash(source)
    words = source.split()[:9]
    while len(words) > 1 and words[-1].lower().strip(",") in DETERMINERS | _SETTING_PREPS | {"of", "over", "and", "with", "to", "for", "through", "into"}:
        words.pop()
    title = " ".join(words).strip(" ,:;-")
    if not title:
        return "Untitled"
    return title[0].upper() + title[1:]


def plan_storyboard(
    brief: str,
    *,
    settings: AgentSettings,
    defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> PlanResult:
    """Plan a storyboard from a brief, offline and deterministically.

    `defaults` fill in what the brief leaves unsaid; `overrides` (the CLI's --aspect/--seconds) win over
    the brief. Keys for both: aspect_ratio, seconds, fps, shots, style_guide, resolution, backend.
    `settings`: the Director's; its `max_shot_seconds` caps every shot's duration.
    """
    defaults = dict(defaults or {})
    overrides = dict(overrides or {})
    max_shot_seconds = settings.max_shot_seconds
    notes: list[str] = []
    questions: list[str] = []
    original = (brief or "").strip()

    # 1. quoted lines out first, so their words are not read as instructions
    quotes: list[str] = []

    def _stash(m: re.Match) -> str:
        quotes.append(next(g for g in m.groups() if g is not None).strip())
        return f" ⟦{len(quotes) - 1}⟧ "

    text = _QUOTE.sub(_stash, original)
    # list markers ("Shot 1:", "Scene 2 -", "3.", "- ", "•") start a new beat and are not picture words
    text = _LIST_MARKER.sub("\n", text)

    # 2. film-wide settings
    lengths = _read_lengths(text)
    aspects = find_aspects(text)
    negatives = find_negatives(text)
    no_narration = bool(NO_NARRATION.search(text))
    wants_narration = bool(NARRATION_WORDS.search(NO_NARRATION.sub(" ", text))) and not no_narration

    strong = [a for a in aspects if a[2]]
    chosen = strong or [a for a in aspects if not a[2]]
    aspect = overrides.get("aspect_ratio")
    if aspect:
        if chosen and chosen[0][0] != aspect:
            notes.append(f"Aspect ratio {aspect}, as asked outside the brief (the brief said '{chosen[0][1]}').")
        else:
            notes.append(f"Aspect ratio {aspect}.")
    elif chosen:
        aspect = chosen[0][0]
        ratios = []
        for a in strong:
            if a[0] not in [r[0] for r in ratios]:
                ratios.append(a)
        if len(ratios) > 1:
            said = " and ".join(f"'{r[1]}' ({r[0]})" for r in ratios)
            questions.append(f"The brief asks for both {said}. Which aspect ratio do you want: {', '.join(r[0] for r in ratios)}?")
            notes.append(f"Aspect ratio {aspect} for now (from '{chosen[0][1]}'), until you say which.")
        else:
            notes.append(f"Aspect ratio {aspect} (from '{chosen[0][1]}').")
    else:
        aspect = defaults.get("aspect_ratio", DEFAULT_ASPECT)
        notes.append(f"Aspect ratio {aspect}: the brief didn't say, so widescreen." if aspect == "16:9" else f"Aspect ratio {aspect} (default).")

    fps = overrides.get("fps") or lengths.fps or defaults.get("fps") or DEFAULT_FPS
    if not (1 <= int(fps) <= 60):
        notes.append(f"{fps} fps is outside 1–60; using {DEFAULT_FPS}.")
        fps = DEFAULT_FPS
    fps = int(fps)
    notes.append(f"{fps} fps." if lengths.fps or overrides.get("fps") else f"{fps} fps (default).")

    # 3. strip settings, negatives and narration requests from the picture text
    body = text
    for a, b in sorted(lengths.spans, reverse=True):
        body = body[:a] + " " + body[b:]
    for pattern, _, _ in ASPECT_PATTERNS:
        body = re.sub(rf"(?:\b(?:in|for|as)\s+)?(?:{pattern})(?:\s+(?:format|aspect(?:\s+ratio)?|orientation|mode))?", " ", body, flags=re.I)
    body = _NEGATIVE.sub(" ", body)
    body = re.sub(r"\b(?:with\s+(?:a\s+)?)?(?:narration|voice[\s-]?over|narrator)\b|\bnarrated\b", " ", body, flags=re.I)
    body = re.sub(r"\b(?:long|in\s+total|total|overall|each|aspect\s+ratio|frames)\b(?=\s*[,.;:]|\s*$)", " ", body, flags=re.I)
    body = re.sub(r"[ \t]+", " ", body)
    body = re.sub(r"\s+([,.;:!?])", r"\1", body)
    body = re.sub(r"[,;:](?:\s*[,;:])+", lambda m: next(c for c in ":;," if c in m.group(0)), body)
    body = re.sub(r"\.\s*[,;:]+", ".", body)
    body = re.sub(r"^[\s,;:]+", "", body)

    # 4. header ("A 30-second ad for a coffee brand:") and picture sentences
    header: str | None = None
    topic = ""
    rest = body.strip()
    first_sentence_m = re.match(r"^(.*?)(?::|[.!?](?=\s|$)|$)(.*)$", rest, re.S)
    if first_sentence_m:
        first, after = first_sentence_m.group(1), first_sentence_m.group(2)
        is_header, kind, tp = _header_split(first)
        if is_header:
            header, topic, rest = first.strip(), tp, after.strip()
        elif rest[len(first): len(first) + 1] == ":" and len(first.split()) <= 10:
            header, topic, rest = first.strip(), "", after.strip()
    header_text = header or ""

    film_style = find_style(original)
    film_modifiers = header_text
    raw_beats = _split_beats(rest)
    picture_beats: list[Beat] = []
    pooled_quotes: list[str] = []
    for raw in raw_beats:
        marks = _MARK.findall(raw)
        if len(marks) == 1 and not _MARK.sub(" ", raw).strip(" ,.:;!?-") and picture_beats and not picture_beats[-1].narration:
            picture_beats[-1].narration.append(quotes[int(marks[0])])  # a quoted line after a picture is spoken over it
            continue
        if marks and picture_beats and not picture_beats[-1].caption:
            probe = parse_beat(raw, quotes)
            if probe.caption and not probe.has_picture:
                picture_beats[-1].caption = probe.caption  # "Text: 'Hear more'." goes on the shot before it
                continue
        if _is_modifier_only(_MARK.sub(" ", raw)):
            film_modifiers += " " + raw
            pooled_quotes += [quotes[int(i)] for i in _MARK.findall(raw)]
            continue
        beat = parse_beat(raw, quotes)
        if beat.has_picture:
            picture_beats.append(beat)
        elif len(beat.narration) == 1 and picture_beats and not picture_beats[-1].narration:
            picture_beats[-1].narration += beat.narration  # a quoted line after a picture is spoken over it
        else:
            film_modifiers += " " + raw
            pooled_quotes += beat.narration
    if not picture_beats and topic:
        # the header is the only picture: "a video of a cat sleeping on a windowsill"
        picture_beats = [b for b in (parse_beat(t, quotes) for t in _split_beats(topic)) if b.has_picture]
    elif header:
        header_lines = parse_beat(header, quotes)
        pooled_quotes = header_lines.narration + pooled_quotes

    film_atmosphere = find_words(ATMOSPHERE_WORDS, film_modifiers)
    film_lighting = find_words(LIGHTING_WORDS, film_modifiers)
    film_technical = find_words(TECHNICAL_WORDS, film_modifiers)
    film_camera = find_camera(_MARK.sub(" ", film_modifiers))
    film_framing = find_framing(_MARK.sub(" ", film_modifiers))
    steady = any(re.search(r"shak|jitter|wobbl|handheld", n) for n in negatives) or bool(re.search(r"\b(?:steady|stable|smooth)\s+camera\b|\btripod\b", original, re.I))
    if film_camera == "handheld" and steady:
        film_camera = None

    placeholder = False
    if not picture_beats:
        placeholder = True
        picture_beats = [Beat(text="", subject="a quiet landscape", action="slowly changing light", setting="under an open sky")]
        questions.append(
            "What should the film show? Tell me the subject and what happens, e.g. "
            "'a 20-second vertical video: a barista pours latte art, then a close-up of the cup, end on the logo'."
        )
        notes.append("The brief names no picture, so this is a placeholder landscape.")

    # pronouns and missing subjects continue the previous beat's subject; a missing setting continues the scene
    prev: Beat | None = None
    for beat in picture_beats:
        if prev is not None:
            if (beat.pronoun_subject or not beat.subject) and prev.subject:
                beat.subject = _the(prev.subject)
            if not beat.setting and prev.setting and not re.search(r"\b(?:logo|title|card|text|tagline|slogan|end\s+card)\b", beat.subject, re.I):
                beat.setting = prev.setting
        elif beat.pronoun_subject and not beat.subject and topic:
            beat.subject = topic
        prev = beat
    if topic:
        for beat in picture_beats:
            if re.fullmatch(r"(?:the|our|a|its)\s+(?:logo|product|brand)", beat.subject, re.I) and not re.search(r"\b(?:logo|product)\b", topic, re.I):
                beat.subject = f"{beat.subject} of {topic}"

    # 5. ordering cues
    opens = [b for b in picture_beats if b.cue == "open"]
    ends = [b for b in picture_beats if b.cue == "end"]
    middle = [b for b in picture_beats if b.cue not in {"open", "end"}]
    if (opens and picture_beats[0] is not opens[0]) or (ends and picture_beats[-1] is not ends[-1]):
        notes.append("Reordered to follow 'open with'/'end on'.")
    picture_beats = opens + middle + ends

    # 6. length and shot count
    per_shot = overrides.get("shot_seconds") or (lengths.per_shot[0][0] if lengths.per_shot else None)
    count_values = sorted({c for c, _ in lengths.counts})
    total_values = sorted({round(t, 2) for t, _ in lengths.total})
    count = overrides.get("shots") or (lengths.counts[0][0] if lengths.counts else None) or defaults.get("shots")
    total = overrides.get("seconds")
    if total is None and lengths.total:
        total = lengths.total[0][0]
    if not overrides.get("shots") and len(count_values) > 1:
        said = " and ".join(f"'{w}'" for _, w in lengths.counts)
        questions.append(f"The brief says {said}. How many shots do you want: {' or '.join(str(c) for c in count_values)}?")
    if not overrides.get("seconds") and len(total_values) > 1:
        said = " and ".join(f"'{w}'" for _, w in lengths.total)
        questions.append(f"The brief gives two lengths, {said}. How long should the film be: {' or '.join(f'{t:g} s' for t in total_values)}?")
    if per_shot and count and total is not None and abs(per_shot * count - total) > 0.5 and not overrides.get("seconds"):
        questions.append(
            f"{count} shots of {per_shot:g} s make {per_shot * count:g} s, but the brief also says {total:g} s. "
            f"Which do you want: {total:g} s in total, or {count} shots of {per_shot:g} s?"
        )
    if total is None and per_shot:
        n_guess = count or len(picture_beats)
        total = per_shot * n_guess
        notes.append(f"Length {total:g} s: {n_guess} shots of {per_shot:g} s.")
    elif total is None:
        total = float(defaults.get("seconds", 0) or 0) or (DEFAULT_SECONDS if (count or len(picture_beats)) <= 5 else 3.0 * (count or len(picture_beats)))
        notes.append(f"Length {total:g} s: the brief didn't say.")
    elif overrides.get("seconds") and lengths.total and abs(lengths.total[0][0] - float(total)) > 0.05:
        notes.append(f"Length {float(total):g} s, as asked outside the brief (the brief said '{lengths.total[0][1]}').")
    else:
        notes.append(f"Length {total:g} s.")
    total = float(total)
    if total < 0.5:
        notes.append(f"{total:g} s is too short for a shot; using 1 s.")
        total = 1.0
    min_shots = math.ceil(total / max_shot_seconds - 1e-9)
    if count:
        n = int(count)
        if n < min_shots:
            notes.append(
                f"{n} shot{'s' if n != 1 else ''} of {total / n:.1f} s would be longer than the {max_shot_seconds:g} s a shot may last, "
                f"so I made {min_shots} shots (long beats split into closer coverage)."
            )
            n = min_shots
    else:
        n = max(len(picture_beats), min_shots)
        if len(picture_beats) < 3 and not lengths.per_shot:
            n = max(n, min(5, max(3, round(total / 4))))
        if per_shot:
            n = max(n, round(total / per_shot))
        beats_said = f"the brief has {len(picture_beats)} beat{'s' if len(picture_beats) != 1 else ''}"
        if n > len(picture_beats) and n == min_shots:
            notes.append(f"{n} shots: {beats_said}, and {total:g} s needs {n} shots of at most {max_shot_seconds:g} s.")
        elif n > len(picture_beats):
            notes.append(f"{n} shots: {beats_said}, so I added closer coverage (3–5 shots by default).")
        else:
            notes.append(f"{n} shot{'s' if n != 1 else ''}, one per beat of the brief.")
    n = max(1, min(n, int(total * 2)))  # never shorter than half a second a shot

    beats = _fit_beats(picture_beats, n)
    durations = distribute(total, n)

    # 7. look, mood, transitions
    style_guide = overrides.get("style_guide")
    if not style_guide:
        if film_style:
            style_guide = ", ".join(dict.fromkeys(film_style))
            notes.append(f"Look: {style_guide}.")
        else:
            style_guide = defaults.get("style_guide") or DEFAULT_STYLE
            notes.append(f"Look: {style_guide} (no look was named).")
    mood_text = _MARK.sub(" ", original)
    energetic = bool(ENERGETIC.search(mood_text))
    calm = bool(CALM.search(mood_text))
    if energetic and calm:
        energetic = len(ENERGETIC.findall(mood_text)) > len(CALM.findall(mood_text))
        calm = not energetic
    transition = "crossfade" if calm and not energetic else "cut"
    if re.search(r"\b(?:crossfades?|cross-fades?|dissolves?)\b", original, re.I):
        transition = "crossfade"
    elif re.search(r"\b(?:hard|quick|fast|jump)\s+cuts\b", original, re.I):
        transition = "cut"
    elif re.search(r"\bwipes?\b", original, re.I):
        transition = "wipe"
    last_transition = "fade" if (transition == "crossfade" or re.search(r"\bfade\s+(?:out|to\s+black)\b", original, re.I)) else transition
    notes.append(
        "Crossfades between shots: the brief reads calm." if transition == "crossfade"
        else ("Hard cuts: the brief reads energetic." if energetic else f"{transition.capitalize()}s between shots.")
    )

    # 8. narration
    lines: list[str | None] = [None] * n
    beat_lines = [b.narration for b, _ in beats]
    if not no_narration:
        for i, (b, first_of_beat) in enumerate(beats):
            if first_of_beat and beat_lines[i]:
                lines[i] = " ".join(beat_lines[i])
        free_slots = [i for i in range(n) if lines[i] is None]
        if pooled_quotes:
            if len(pooled_quotes) > len(free_slots) and free_slots:
                # more lines than shots: the last shot speaks the rest
                head = pooled_quotes[: len(free_slots) - 1]
                tail = " ".join(pooled_quotes[len(free_slots) - 1:])
                pooled = head + [tail]
            else:
                pooled = pooled_quotes
            for slot, line in zip(free_slots, pooled):
                lines[slot] = line
        if wants_narration and not quotes:
            for i, (b, first_of_beat) in enumerate(beats):
                if lines[i] is None and first_of_beat:
                    lines[i] = _narration_line(b)
            notes.append("Narration: one plain line per beat, written from the brief (give me quoted lines to use your words).")
        elif quotes and any(lines):
            notes.append(f"Narration: {sum(1 for l in lines if l)} of {n} shots speak the quoted lines.")
    elif quotes:
        notes.append("No narration, as asked.")

    # 9. shots
    seed_key = re.sub(r"\s+", " ", original.lower())
    end_subject = bool(ends)
    shots: list[Shot] = []
    negative = ", ".join(negatives)
    for i, ((beat, first_of_beat), duration) in enumerate(zip(beats, durations)):
        sid = f"s{i + 1}"
        camera, framing = _camera_framing(i, n, beat, first_of_beat, film_camera, film_framing, energetic, calm, steady, end_subject)
        atmosphere = list(dict.fromkeys(film_atmosphere + beat.atmosphere))
        lighting = list(dict.fromkeys(beat.lighting + [l for l in film_lighting if l not in beat.lighting]))
        technical = list(dict.fromkeys(film_technical + beat.technical))
        shot = Shot(
            id=sid,
            duration=duration,
            subject=beat.subject,
            action=beat.action,
            setting=beat.setting,
            atmosphere=", ".join(atmosphere),
            lighting=", ".join(lighting),
            technical=", ".join(technical),
            camera=camera,
            framing=framing,
            negative_prompt=negative,
            seed=seed_for(seed_key, sid),
            backend=overrides.get("backend") or defaults.get("backend"),
            transition=last_transition if i == n - 1 else transition,
            narration=lines[i],
            caption=beat.caption if first_of_beat else None,
        )
        shots.append(shot)
    if negatives:
        notes.append(f"Every shot avoids: {negative}.")

    title_beat = next((b for b in picture_beats if b.subject and b.action), picture_beats[0]) if not placeholder else None
    title = _title(original, header, title_beat, body)
    storyboard = Storyboard(
        title=title,
        aspect_ratio=aspect,
        fps=fps,
        resolution=int(overrides.get("resolution") or defaults.get("resolution") or 720),
        style_guide=style_guide,
        shots=shots,
    )
    question = " ".join(questions) if questions else None
    return PlanResult(storyboard=storyboard, notes=notes, question=question)


def _narration_line(beat: Beat) -> str:
    parts = [beat.subject, beat.action]
    if beat.setting and not beat.setting.lower().startswith(("at ", "in ", "on ", "under ")):
        parts.append(("in " if not beat.setting.lower().startswith(("a ", "an ", "the ")) else "in ") + beat.setting)
    elif beat.setting:
        parts.append(beat.setting)
    line = _squash(" ".join(p for p in parts if p))
    return (line[0].upper() + line[1:] + ".") if line else ""


def _fit_beats(beats: list[Beat], n: int) -> list[tuple[Beat, bool]]:
    """Exactly n (beat, first_shot_of_beat) pairs: merge surplus beats, cover long ones with extra shots."""
    beats = list(beats)
    while len(beats) > n:
        # merge the adjacent pair with the fewest words, never moving the opening or the ending
        candidates = [i for i in range(len(beats) - 1)]
        protected_last = beats[-1].cue == "end"
        if protected_last and len(candidates) > 1:
            candidates = candidates[:-1]
        i = min(candidates, key=lambda k: (len(beats[k].text.split()) + len(beats[k + 1].text.split()), k))
        beats[i:i + 2] = [_merge(beats[i], beats[i + 1])]
    counts = [1] * len(beats)
    extra = n - len(beats)
    # extra shots go to the beats with the most to show (most words), the ending last
    order = sorted(range(len(beats)), key=lambda k: (beats[k].cue == "end", -len(beats[k].text.split()), k))
    k = 0
    while extra > 0 and order:
        counts[order[k % len(order)]] += 1
        extra -= 1
        k += 1
    out: list[tuple[Beat, bool]] = []
    for beat, c in zip(beats, counts):
        copies = [(replace(beat, camera=None, framing=None, narration=[], caption=None, cue=None), False) for _ in range(c - 1)]
        # an ending's own shot (its caption, its framing) stays last; its extra coverage comes before it
        out += copies + [(beat, True)] if beat.cue == "end" else [(beat, True)] + copies
    return out


def _merge(a: Beat, b: Beat) -> Beat:
    same_subject = b.subject.lower() in {"", a.subject.lower(), _the(a.subject).lower()}
    subject = a.subject if same_subject else f"{a.subject} and {b.subject}"
    action = ", then ".join(x for x in (a.action, b.action if same_subject else b.action) if x)
    return Beat(
        text=f"{a.text}, then {b.text}",
        subject=subject,
        action=action,
        setting=a.setting or b.setting,
        atmosphere=list(dict.fromkeys(a.atmosphere + b.atmosphere)),
        lighting=list(dict.fromkeys(a.lighting + b.lighting)),
        technical=list(dict.fromkeys(a.technical + b.technical)),
        camera=a.camera or b.camera,
        framing=a.framing or b.framing,
        cue=a.cue if a.cue == "open" else b.cue if b.cue == "end" else a.cue,
        narration=a.narration + b.narration,
        caption=a.caption or b.caption,
    )


def _camera_framing(
    i: int, n: int, beat: Beat, first_of_beat: bool, film_camera: str | None, film_framing: str | None,
    energetic: bool, calm: bool, steady: bool, end_subject: bool,
) -> tuple[str, str]:
    """The brief's words first; otherwise establishing wide + slow dolly in, closer in the middle, end wide or on the end subject."""
    camera = beat.camera if first_of_beat else None
    framing = beat.framing if first_of_beat else None
    last = i == n - 1 and n > 1
    if not framing and film_framing:
        framing = film_framing
    if not camera and film_camera:
        camera = film_camera
    if not framing:
        if i == 0:
            framing = "extreme_wide" if camera == "aerial" else "wide"
        elif last:
            framing = "close_up" if (end_subject and beat.cue == "end") else "wide"
        elif camera == "aerial":
            framing = "wide"
        else:
            cycle = ["medium", "close_up", "low_angle", "close_up"] if energetic else ["medium", "close_up", "medium", "high_angle"]
            framing = cycle[(i - 1) % len(cycle)]
    if not camera:
        if i == 0:
            camera = "dolly_in"
        elif last:
            if end_subject and beat.cue == "end":
                camera = "zoom_in" if energetic else "static"
            else:
                camera = "crane" if energetic else "dolly_out"
        else:
            if energetic:
                cycle = ["tracking", "orbit" if steady else "handheld", "zoom_in", "orbit"]
            elif calm:
                cycle = ["static", "pan_right", "dolly_in", "tilt_up"]
            else:
                cycle = ["tracking", "static", "pan_right", "orbit"]
            camera = cycle[(i - 1) % len(cycle)]
    if steady and camera == "handheld":
        camera = "tracking"
    return camera, framing
