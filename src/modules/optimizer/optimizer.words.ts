import nlp from 'compromise';

/**
 * The English word lists of rule set `v1`: function words (what a keyphrase's content words are not),
 * transition words and phrases, the forms of "to be" / "to get" that start a passive, and the past participles
 * a passive ends with. Irregular participles come from compromise's lexicon (a maintained word list), the
 * regular ones are recognised by their `-ed` ending.
 */

const words = (text: string): string[] => text.trim().split(/\s+/);

const ARTICLES = words('a an the');
const NUMERALS = words(
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty hundred thousand million first second third fourth fifth sixth seventh eighth ninth tenth',
);
const DEMONSTRATIVES = words('this that these those');

/** Words a sentence beginning skips to the next word (Yoast's "first word exceptions"). */
export const SENTENCE_START_EXCEPTIONS = new Set([...ARTICLES, ...NUMERALS, ...DEMONSTRATIVES]);

export const FUNCTION_WORDS = new Set([
  ...ARTICLES,
  ...NUMERALS,
  ...DEMONSTRATIVES,
  ...words(`
    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its itself
    we us our ours ourselves they them their theirs themselves one's
    who whom whose which what whatever whichever whoever whomever where when why how whether
    am is are was were be been being have has had having do does did doing done get gets got gotten getting
    can could may might must shall should will would ought need needs dare
    i'm you're he's she's it's we're they're i've you've we've they've i'd you'd he'd she'd we'd they'd
    i'll you'll he'll she'll we'll they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't
    won't wouldn't shan't shouldn't can't cannot couldn't mustn't mightn't let's that's there's here's what's who's
    and or but nor so yet for if then than because although though while whereas unless until since as
    about above across after against along amid among around at before behind below beneath beside besides
    between beyond by despite down during except from in inside into like near of off on onto out outside over
    past per regarding round through throughout till to toward towards under underneath unlike up upon via with
    within without
    all any both each either every few many more most much neither no none other others several some such
    another enough less least lots plenty whole
    anybody anyone anything everybody everyone everything nobody nothing somebody someone something
    there here now very too also just only even still already really quite rather almost always never often
    sometimes usually again ever not however therefore thus hence else instead perhaps maybe
    new newer newest old older oldest good better best bad worse worst great greater greatest big bigger biggest
    small smaller smallest high higher highest low lower lowest easy easier easiest hard harder hardest
    make makes made making say says said saying go goes went going gone take takes took taking taken
    use uses used using want wants wanted know knows knew known see sees saw seen
    way ways thing things lot kind kinds sort type types
    `),
]);

/** Transition words of one word (Yoast's English list, abridged to the common ones). */
const TRANSITION_WORDS = words(`
  accordingly additionally afterward afterwards albeit also although altogether another basically because
  before besides but certainly chiefly comparatively concurrently consequently contrarily conversely
  correspondingly despite doubtedly during e.g. earlier emphatically equally especially eventually evidently
  explicitly finally firstly following formerly forthwith fourthly further furthermore generally hence
  henceforth however i.e. identically indeed initially instead lastly later lest likewise markedly meanwhile
  moreover nevertheless nonetheless nor notwithstanding obviously occasionally otherwise overall particularly
  presently previously primarily provided rather regardless second secondly shortly significantly similarly
  simultaneously since so soon specifically still straightaway subsequently surely surprisingly than then
  thereafter therefore thereupon thirdly though thus till too undeniably undoubtedly unless unlike unquestionably
  until when whenever whereas while
`);

/** Transition phrases of several words. */
const TRANSITION_PHRASES = [
  'above all',
  'after all',
  'after that',
  'all in all',
  'all of a sudden',
  'all things considered',
  'along with',
  'an example of',
  'as a matter of fact',
  'as a result',
  'as an illustration',
  'as long as',
  'as soon as',
  'as well as',
  'at first',
  'at last',
  'at least',
  'at the same time',
  'because of',
  'by all means',
  'by contrast',
  'by the same token',
  'by the time',
  'even if',
  'even so',
  'even though',
  'for example',
  'for instance',
  'for one thing',
  'for this reason',
  'from time to time',
  'given that',
  'in addition',
  'in any case',
  'in brief',
  'in conclusion',
  'in contrast',
  'in fact',
  'in general',
  'in order to',
  'in other words',
  'in particular',
  'in short',
  'in spite of',
  'in summary',
  'in the end',
  'in the first place',
  'in the meantime',
  'in the same way',
  'in this case',
  'last but not least',
  'most importantly',
  'not only',
  'on the contrary',
  'on the other hand',
  'on the whole',
  'once again',
  'such as',
  'that is',
  'that is to say',
  'to begin with',
  'to conclude',
  'to illustrate',
  'to put it differently',
  'to sum up',
  'to summarize',
  'up to',
  'with this in mind',
];

export const TRANSITION_WORD_SET = new Set(TRANSITION_WORDS);
/** Each phrase padded with spaces, to be looked for in a sentence's space-joined, space-padded words. */
export const TRANSITION_PHRASE_KEYS = TRANSITION_PHRASES.map((p) => ` ${p} `);

/** The auxiliaries of a passive: the forms of "to be" and "to get", contractions included. */
export const PASSIVE_AUXILIARIES = new Set(
  words(`
    am is are was were be been being get gets got gotten getting
    i'm you're he's she's it's we're they're that's there's what's who's
    isn't aren't wasn't weren't
  `),
);

/** Words that may stand between the auxiliary and the participle ("is often used", "was not being seen"). */
export const PASSIVE_GAP_WORDS = new Set(
  words('not never also always often still just already usually being been sometimes rarely then'),
);

/** Words ending in -ed that are not participles. */
const NOT_PARTICIPLES = new Set(
  words(`
    bed bred embed feed need seed speed shed shred sled sped red hundred indeed naked wicked sacred kindred
    rugged ragged jagged beloved learned aged ed led fled wed weed steed greed breed creed deed heed reed
    tweed proceed succeed exceed
  `),
);

/** Irregular past participles (and irregular past forms, which for most verbs are the participle too). */
const IRREGULAR_PARTICIPLES: Set<string> = (() => {
  const lexicon = (nlp.model() as { one: { lexicon: Record<string, string | string[]> } }).one.lexicon;
  const found = new Set<string>();
  for (const [word, tag] of Object.entries(lexicon)) {
    if (word.includes(' ') || word.endsWith('ed')) continue;
    const tags = Array.isArray(tag) ? tag : [tag];
    if (tags.includes('Participle') || tags.includes('PastTense')) found.add(word);
  }
  // Auxiliaries and past forms that never end a passive ("was had", "is did" are not English passives).
  for (const word of words('been had did went came got was were said meant')) found.delete(word);
  return found;
})();

export function isParticiple(word: string): boolean {
  if (IRREGULAR_PARTICIPLES.has(word)) return true;
  return word.length > 3 && word.endsWith('ed') && !NOT_PARTICIPLES.has(word);
}
