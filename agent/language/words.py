"""The words the director understands, in one place: numbers, camera and framing phrases, looks,
light, weather and mood, the verbs and nouns the beat parser leans on, and the cue words of a brief.

The planner (agent/planner/rules.py) and the feedback parser (agent/feedback.py) both read these; a
word list lives here and nowhere else.
"""

from __future__ import annotations

import re

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
NUMWORDS = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUM = rf"(\d+(?:\.\d+)?|{NUMWORDS})"


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
    (r"orbit(?:s|ing)?(?:\s+(?:shot|around))?|circl(?:es|ing)\s+(?:around|round)|360[\s-]?(?:degrees?|°)?(?:\s+(?:shot|orbit|turn|view|pan|spin))?|arc\s+shot", "orbit"),
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
FRAMING_BARE_OK = {"extreme_close_up", "close_up", "low_angle", "high_angle", "dutch_angle", "overhead"}

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
STYLE_OF = re.compile(r"\bin\s+the\s+style\s+of\s+([^,.;:!?]+)", re.I)

LIGHTING_WORDS: list[tuple[str, str]] = [
    (r"\bgolden\s+hour\b", "warm golden hour light"),
    (r"\bnatural\s+(?:light(?:ing)?|daylight)\b|\bavailable\s+light\b", "natural light"),
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
    (r"\bstorm(?:y|s)?\b(?!\s+(?:off|out|away|past|in|into|through|up|down)\b)", "stormy"), (r"\bsnow(?:y|ing|s)?\b", "snowy"), (r"\bcalm\b", "calm"),
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
NEGATIVE = re.compile(
    r"\b(?:no|without|avoid(?:ing)?|never\s+show|don'?t\s+show|do\s+not\s+show|don'?t\s+want|do\s+not\s+want)\s+(?:any\s+)?"
    r"([a-z][a-z'\- ]*?)(?=\s*(?:[,.;:!?)]|$)|\s+(?:and|or|but|please|in|on|at|for|so|anywhere|at\s+all)\b)",
    re.I,
)
NOT_NEGATIVES = re.compile(
    r"^(?:narration|voice[\s-]?over|narrator|music|sound|audio|dialogue|more|longer|less|shorter|need|problem|idea|rush|matter)\b", re.I
)

FORMAT_NOUNS = {
    "ad", "advert", "advertisement", "commercial", "video", "film", "movie", "clip", "reel", "short", "loop",
    "sequence", "montage", "documentary", "doc", "story", "teaser", "trailer", "promo", "animation",
    "animatic", "piece", "spot", "explainer", "vlog", "intro", "outro", "short-film", "gif", "sizzle",
    "showreel", "storyboard", "cinemagraph", "tiktok", "reels", "short.", "edit", "highlights", "recap",
    "compilation", "tribute", "tour", "timelapse", "time-lapse", "slideshow", "lookbook", "ident", "bumper",
}
HEADER_LINK = re.compile(r"^(?:for|about|of|showing|featuring|where|in\s+which|that\s+shows|on|starring|with)\b\s*", re.I)
REQUEST = re.compile(
    r"^\s*(?:hey|hi|ok|okay)?[\s,]*(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:make|create|generate|produce|render|give\s+me|i\s+want|i'?d\s+like|i\s+would\s+like|we\s+need|i\s+need|we\s+want|build|shoot|direct|do|plan|write|let'?s\s+make)"
    r"\s+(?:me\s+|us\s+)?",
    re.I,
)
DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "our", "my", "your", "this", "that", "these", "those", "some", "two", "three", "four", "five", "several", "many", "each", "every"}
PRONOUNS = {"he", "she", "they", "it", "we", "him", "them"}
SETTING_PREPS = {"in", "inside", "at", "on", "within", "outside", "under", "beneath", "underneath", "near", "by", "atop", "amid", "among"}
SETTING_BARE = {
    "dawn", "dusk", "night", "sunset", "sunrise", "noon", "midnight", "twilight", "daybreak", "home", "sea",
    "work", "school", "space", "stage", "midday", "nightfall", "daylight", "town", "camp", "church", "golden",
    "first", "last", "rest", "sundown", "moonrise",
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
add adds adding circle circles circling sizzle sizzles creak creaks creaking snap snaps flicker waddle waddles slip slips
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
ING_NOUNS = {
    "morning", "evening", "building", "ceiling", "painting", "clothing", "lightning", "ring", "king", "thing",
    "something", "nothing", "everything", "anything", "spring", "string", "wing", "wedding", "sibling",
    "pudding", "icing", "frosting", "setting", "lighting", "opening", "ending", "beginning", "awning",
    "bedding", "earring", "ping", "sling", "swing", "viking", "darling", "dumpling", "railing", "stocking",
    "sing", "bling", "offering", "gathering", "clearing", "crossing", "landing", "being", "feeling",
    "living", "dining", "parking", "wring",
}
CUE_OPEN = re.compile(r"^(?:and\s+)?(?:open(?:s|ing)?(?:\s+(?:shot|scene))?\s*(?:with|on|:)|start(?:s|ing)?\s+(?:with|on)|begin(?:s|ning)?\s+(?:with|on)|first(?:ly)?,?|at\s+the\s+start,?|to\s+open,?)\s*", re.I)
CUE_END = re.compile(
    r"^(?:and\s+)?(?:end(?:s|ing)?\s+(?:with|on)|close(?:s)?\s+(?:with|on)|closing\s+(?:on|with|shot:?)|finish(?:es|ing)?\s+(?:with|on)|final\s+shot:?|"
    r"(?:and\s+)?finally,?|lastly,?|at\s+the\s+end,?|in\s+the\s+end,?|to\s+finish,?|wrap\s+up\s+with)\s*",
    re.I,
)
CUE_THEN = re.compile(r"^(?:and\s+)?(?:then|next|after\s+that|afterwards|later|meanwhile|cut\s+to|and)\b,?\s*", re.I)
SHOW_PREFIX = re.compile(
    r"^(?:we\s+see|you\s+see|show(?:s|ing)?(?:\s+us)?|(?:a|an|the)?\s*shot\s+of|footage\s+of|(?:a\s+)?scene\s+(?:of|with)|there\s+(?:is|are)|"
    r"(?:a|an)\s+(?:view|glimpse|look)\s+(?:of|at)|(?:a|an)\s+(?:image|picture)\s+of)\s+",
    re.I,
)
CAPTION_BEFORE = re.compile(r"(?:text|caption|title|tagline|slogan|words|reading|reads|headline|card|sign|saying|super)\s*:?\s*$", re.I)
BEAT_START = {
    "a", "an", "the", "then", "finally", "lastly", "next", "close-up", "closeup", "close", "cut", "end", "ending",
    "open", "opening", "we", "she", "he", "they", "it", "his", "her", "their", "our", "wide", "drone", "aerial",
    "slow", "macro", "extreme", "medium", "overhead", "low", "high", "tracking", "pan", "zoom", "later",
    "meanwhile", "back", "after", "and", "finish", "closing", "static", "handheld", "orbit", "push", "pull",
    "dolly", "tilt", "crane", "track", "follow", "circle", "establishing", "show", "dutch",
}
QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|(?:(?<=^)|(?<=[\s:(]))'([^']+?)'(?=[\s.,;:!?)]|$)|‘([^’]+)’")
MARK = re.compile(r"⟦(\d+)⟧")

LIST_MARKER = re.compile(
    r"(?:^|(?<=[.!?\n])\s*|(?<=[.!?]\s))[ \t]*(?:(?:shot|scene|beat|part)\s*#?\d+\s*(?:[:.)\-–—]|\s(?=[A-Za-z]))|\d{1,2}\s*[.)](?!\d)|[-*•–—])[ \t]*",
    re.I,
)

DEFAULT_SECONDS = 15.0
DEFAULT_FPS = 24
DEFAULT_ASPECT = "16:9"
DEFAULT_STYLE = "cinematic, natural colors"


# ----------------------------------------------------------------------------- reading like a director

# Past participles that describe a state ("a kite caught in a tree"): the beat's action, not its subject.
PARTICIPLES = set("""
caught stuck tangled perched trapped frozen abandoned covered hidden parked moored wrapped soaked
stranded scattered stacked piled buried tied chained lit reflected silhouetted framed surrounded
""".split())
# After these verbs "at the ..." is what they look at, never where they are ("looking at the camera").
LOOK_VERBS = set("""
look looks looking stare stares staring gaze gazes gazing glance glances glancing smile smiles smiling
wave waves waving point points pointing laugh laughs laughing bark barks barking howl howls howling
peer peers peering glare glares glaring aim aims aiming shout shouts shouting nod nods nodding
""".split())
OBJECTS_NOT_PLACES = re.compile(r"^(?:the\s+)?(?:camera|viewer|lens|audience|us|me|him|her|them|it|each\s+other)\b", re.I)
# Verbs of moving through a place: their object is where the shot is ("crossing a snowy forest").
TRAVERSE = re.compile(
    r"^(?:cross(?:es|ing)?|travers(?:es|ing)|explor(?:es|ing)|(?:walk|run|wander|race|drive|ride|fly|hike|trek|stroll|sprint|creep|sneak|roam|"
    r"cycl|bik|sail|swim|skat|drift|float|glid|march|limp|stumbl|hurr|rush|dash|climb|paddl|row)"
    r"(?:e|s|es|ed|ing|ning|ming|ies|y)?\s+(?:through|across|along|into|over|down|up))\s+((?:a|an|the)\s+.+)$",
    re.I,
)
# Places: a subject that is a place is the scene itself, and later shots happen there.
PLACE_NOUNS = set("""
city town village street streets road alley market square harbour harbor port beach coast shore sea ocean lake
river valley mountain mountains hill hills forest woods jungle desert field fields meadow garden park canyon
cliff cliffs ridge island bay skyline rooftop rooftops plaza station platform airport highway bridge cafe
kitchen bedroom room hallway corridor office studio warehouse factory church temple library classroom
stadium arena farm ranch vineyard orchard glacier tundra savanna swamp marsh cave cavern lagoon waterfall
landscape countryside neighbourhood neighborhood suburb downtown skyline horizon sky
""".split())
# People and creatures: a subject with one of these as its head noun joins the film's cast.
BEINGS = set("""
man woman boy girl child kid baby teenager teen girl guy lady gentleman person
fisherman fisherwoman hunter farmer sailor soldier knight king queen prince princess wizard witch
detective thief chef cook baker barista waiter waitress vendor driver pilot astronaut doctor nurse
dancer singer musician drummer guitarist painter artist writer student teacher scientist robot
keeper grandmother grandfather grandma grandpa mother father mom dad son daughter brother sister
glassblower shoemaker watchmaker blacksmith beekeeper woodworker potter weaver tailor
postman mailman policeman policewoman firefighter officer guard janitor miner lumberjack blacksmith
grandson granddaughter uncle aunt bride groom couple toddler
runner skater surfer climber hiker cyclist swimmer boxer athlete player monk nun priest
explorer traveler traveller stranger cowboy samurai ninja pirate captain mermaid ghost alien
dog cat fox wolf bear horse deer owl eagle hawk crow raven bird cow goat sheep pig rabbit hare
squirrel mouse rat lion tiger elephant giraffe monkey gorilla dolphin whale shark turtle frog
dragon unicorn butterfly dragonfly bee heron swan duck goose penguin seal otter kitten puppy
""".split())
# Look words: a sentence made of these (and "shot on 16mm", "like a 1970s postcard") is the film's look.
LOOK_WORDS = re.compile(
    r"\b(?:cold|bleak|gritty|grainy|muted|desaturated|saturated|lush|stark|harsh|soft|warm|golden|faded|washed[\s-]out|"
    r"high[\s-]contrast|low[\s-]contrast|vivid|icy|sun[\s-]?bleached|analog(?:ue)?|lo[\s-]?fi|polished|raw|grim|dark|"
    r"bright|colou?rful|saturated|painterly|hand[\s-]drawn|timeless|elegant|clean|sleek|airy|dusky|earthy|"
    r"shot\s+on\s+[\w.-]+(?:\s+film)?|on\s+(?:16|35|8)\s?mm(?:\s+film)?|like\s+an?\s+[^,.;]+|[\w-]+\s+style|"
    r"\d{4}s|\d0s)\b",
    re.I,
)


# ----------------------------------------------------------------------------- feedback

# "render it", "looks good, render", "go ahead and render", "make the film": the person wants the film now.
RENDER_ONLY = re.compile(
    r"^(?:(?:ok(?:ay)?|great|good|perfect|nice|cool|lovely|looks?\s+(?:good|great)|love\s+it|yes|yep|sure|fine)[\s,.!]*)*"
    r"(?:(?:please|now|and|then|just|so|go\s+ahead(?:\s+and)?|let'?s|you\s+can|can\s+you)\s+)*"
    r"(?:render|make|shoot|produce|generate|film|cut)(?:\s+(?:it|this|that|the\s+(?:film|video|movie|cut|thing)))?"
    r"(?:\s+(?:now|please|then))*[\s.!]*$",
    re.I,
)
RENDER_TAIL = re.compile(r"(?:[,;.]\s*|\s+)(?:and\s+|then\s+)*(?:re-?)?render(?:\s+(?:it|this|the\s+film))?(?:\s+(?:now|please))*[\s.!]*$", re.I)
# "add rain": weather and texture a person adds to shots -> (field, words)
ADDITIONS: dict[str, tuple[str, str]] = {
    "rain": ("atmosphere", "rain, wet reflections"), "fog": ("atmosphere", "thick fog"), "mist": ("atmosphere", "mist"),
    "snow": ("atmosphere", "falling snow"), "smoke": ("atmosphere", "drifting smoke"), "wind": ("atmosphere", "wind"),
    "dust": ("atmosphere", "dust in the air"), "haze": ("atmosphere", "haze"), "storm": ("atmosphere", "stormy, dark storm clouds"),
    "lightning": ("lighting", "flashes of lightning"), "sunshine": ("lighting", "bright sunshine"),
    "lens flare": ("technical", "lens flare"), "lens flares": ("technical", "lens flare"), "slow motion": ("technical", "slow motion"),
    "film grain": ("style", "film grain"), "grain": ("style", "film grain"),
}
ADD_WEATHER = re.compile(
    r"\b(?:add|adding|put\s+in|include|with|give\s+(?:it|them|the\s+\w+\s+shot)|a\s+bit\s+of|some|more)\s+(?:some\s+|a\s+(?:bit|touch)\s+of\s+|more\s+)?"
    r"(rain|fog|mist|snow|smoke|wind|dust|haze|storm|lightning|sunshine|lens\s+flares?|slow\s+motion|film\s+grain|grain)\b",
    re.I,
)
# "but keep it 20 seconds", "keep the same length": the film's length is held while shots change
KEEP_LENGTH = re.compile(
    r"(?:[,;]?\s*(?:but|and|while)\s+)?(?:keep(?:ing)?|hold(?:ing)?|stay(?:ing)?\s+at)\s+(?:it|the\s+(?:film|video|whole\s+thing|total|length|runtime))?\s*"
    r"(?:at\s+|to\s+)?(?:(\d+(?:\.\d+)?)\s*(?:seconds?|secs?|s)\b(?:\s+(?:long|total|in\s+total|overall))?|the\s+same\s+length|(?:the\s+)?same)"
    r"|(?:[,;]?\s*(?:but|and)\s+)?(?:keep|at)\s+the\s+same\s+(?:total\s+)?length|(?:[,;]?\s*(?:but|and)\s+)?(?:don'?t|do\s+not)\s+change\s+the\s+(?:total\s+)?length",
    re.I,
)
# A person's sex, said in words, both ways; "-man" words (fisherman) change with them.
FEMININE = {"man": "woman", "men": "women", "boy": "girl", "boys": "girls", "he": "she", "him": "her", "his": "her",
            "himself": "herself", "father": "mother", "dad": "mum", "king": "queen", "prince": "princess", "son": "daughter",
            "brother": "sister", "husband": "wife", "gentleman": "lady", "guy": "woman", "grandfather": "grandmother",
            "grandpa": "grandma", "uncle": "aunt", "monk": "nun", "waiter": "waitress", "actor": "actress", "mr": "ms",
            "groom": "bride", "male": "female", "nephew": "niece", "lord": "lady", "wizard": "witch"}
MASCULINE = {v: k for k, v in FEMININE.items() if k not in {"his", "guy", "lord", "mr"}} | {"her": "his"}
WOMAN_WORDS = {"woman", "girl", "female", "lady", "women", "she"}
MAN_WORDS = {"man", "boy", "male", "guy", "gentleman", "men", "he"}
