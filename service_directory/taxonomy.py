"""The ward's welfare taxonomy: stable codes, Japanese names with readings, English names.

Top-level codes are the fields the ward plan groups its information by (elderly, child and
family, disability, daily living, disaster, community activity); the second level names the
kinds of activity residents ask for. Codes never change meaning; a retired term stays so old
links still resolve.
"""

TAXONOMY_NAME = "多摩区 福祉・地域活動分類"
TAXONOMY_NAME_EN = "Tama Ward welfare and community-activity taxonomy"
TAXONOMY_VERSION = "1.0"

# (code, parent code or "", name, reading, English name)
TERMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("EL", "", "高齢者", "こうれいしゃ", "Older people"),
    ("EL-SALON", "EL", "サロン・通いの場", "さろん・かよいのば", "Salons and gathering places"),
    ("EL-PREV", "EL", "介護予防教室", "かいごよぼうきょうしつ", "Care-prevention classes"),
    ("EL-CONSULT", "EL", "高齢者の相談窓口", "こうれいしゃのそうだんまどぐち", "Advice for older people"),
    ("EL-DEMENTIA", "EL", "認知症カフェ", "にんちしょうかふぇ", "Dementia cafés"),
    ("CF", "", "子ども・子育て", "こども・こそだて", "Children and families"),
    ("CF-FOOD", "CF", "子ども食堂", "こどもしょくどう", "Children's cafeterias"),
    ("CF-PLAY", "CF", "子育てひろば", "こそだてひろば", "Parent-and-child drop-in spaces"),
    ("CF-CONSULT", "CF", "子育て相談", "こそだてそうだん", "Parenting advice"),
    ("DS", "", "障害", "しょうがい", "Disability"),
    ("DS-CONSULT", "DS", "障害者相談支援", "しょうがいしゃそうだんしえん", "Disability advice and support"),
    ("DS-ACTIVITY", "DS", "日中活動・交流", "にっちゅうかつどう・こうりゅう", "Day activities and meeting places"),
    ("DL", "", "くらし", "くらし", "Daily living"),
    ("DL-FOOD", "DL", "食料支援・フードパントリー", "しょくりょうしえん・ふーどぱんとりー",
     "Food support and pantries"),
    ("DL-MONEY", "DL", "生活困窮の相談", "せいかつこんきゅうのそうだん", "Help with hardship"),
    ("DL-SHOP", "DL", "移動販売・買い物支援", "いどうはんばい・かいものしえん", "Mobile shops and shopping help"),
    ("DL-FOREIGN", "DL", "外国人住民の支援", "がいこくじんじゅうみんのしえん", "Support for foreign residents"),
    ("DL-LGBT", "DL", "LGBTの相談・居場所", "えるじーびーてぃーのそうだん・いばしょ", "LGBT advice and spaces"),
    ("DR", "", "防災", "ぼうさい", "Disaster preparedness"),
    ("DR-EVAC", "DR", "避難支援", "ひなんしえん", "Evacuation support"),
    ("DR-DRILL", "DR", "防災訓練・講座", "ぼうさいくんれん・こうざ", "Drills and courses"),
    ("CA", "", "地域活動", "ちいきかつどう", "Community activities"),
    ("CA-VOLUNTEER", "CA", "ボランティア", "ぼらんてぃあ", "Volunteering"),
    ("CA-EXERCISE", "CA", "体操・運動", "たいそう・うんどう", "Exercise groups"),
    ("CA-WATCH", "CA", "見守り活動", "みまもりかつどう", "Watch-over activities"),
)
