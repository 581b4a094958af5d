"""The three demo campaigns, written for this project. Modelled on real
protests; no real person is named as a participant. Each comes in Spanish,
French and Arabic too, published: written for readers of each language,
not word for word, and every sentence as true of its page as in English."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import site_settings
from .extensions import db
from .models import Campaign, CampaignStatus, CampaignTranslation, Kind, WindowMode
from .windows import local_span

BOYCOTT_STORY = """\
For the month of July we are asking every advertiser to **stop paying for
ads** on the network until it acts on hate and disinformation.

Advertising is how the platform makes its money. When brands pause their
spending together, the people who run it listen in a way they never do when
users complain one at a time.

### How you can help
1. Sign the pledge on this page to stand with the boycott as a customer.
2. If you run a business, join as a business at the foot of this page and
   pause your paid ads on the network for the whole of July.
3. Tell the brands you buy from that you noticed.

A business appears in the list on this page once its contact address has
confirmed the pledge and we have checked it. The scorecard above shows how
the company has answered each demand so far.
"""

PLEDGE_STORY = """\
Every day we hand a platform our attention, our data and our patience, and
every day it gives us more outrage and less of the people we care about.

This is a pledge to **log off, and to stay off until the platform meets our
demands**: choose the day you start, delete the app from your phone, download
your archive, and stop feeding the feed. One account leaving is a rounding
error. Thousands leaving together, each with a reason, are a headline the
company cannot ignore.

If you tell us why you are leaving and agree to show it, your reason may
appear on this page once we have read it.
"""

FREEZE_STORY = """\
For twenty-four hours, we all go quiet. No posts, no replies, no stories.

A day of silence from thousands of accounts shows the platform what it is
without us. It is the simplest protest there is, and it works best when we
do it together: from nine in the morning on every clock, wherever you are.

### The steps
1. At 9:00 your time, post the statement on this page once, with the link
   to this page.
2. Then go quiet: no posts, likes or replies for 24 hours.
3. If you asked for reminders, we email you the day before and when it
   starts, and afterwards ask whether you took part: this page then shows
   how many did.
"""

# The demo campaigns in the site's other languages, by slug and language:
# every field the campaign shows (see translations.required_fields).
DEMO_TRANSLATIONS = {
    "stop-hate-for-profit": {
        "es": {
            "title": "Stop Hate for Profit: pausa tus anuncios en julio",
            "summary": "Las marcas pausan sus anuncios de pago en la red durante todo julio, hasta que actúe contra el odio y la desinformación; los clientes firman para respaldarlas.",
            "story": """\
Durante el mes de julio pedimos a todos los anunciantes que **dejen de pagar
anuncios** en la red hasta que actúe contra el odio y la desinformación.

La publicidad es lo que da de comer a la plataforma. Cuando las marcas
retiran su dinero a la vez, quienes la dirigen escuchan como nunca lo hacen
cuando los usuarios se quejan cada uno por su lado.

### Cómo puedes ayudar
1. Firma el compromiso en esta página para apoyar el boicot como cliente.
2. Si tienes un negocio, súmate como empresa al pie de esta página y
   pausa tus anuncios de pago en la red durante todo julio.
3. Haz saber a las marcas que compras que te has dado cuenta.

Una empresa aparece en la lista de esta página cuando su dirección de
contacto ha confirmado el compromiso y nosotros lo hemos comprobado. La
tabla de seguimiento de más arriba muestra cómo ha respondido la empresa a
cada exigencia hasta ahora.
""",
            "pledge_text": "Apoyo el boicot de los anunciantes. Diré a las marcas que compro que quiero que pausen sus anuncios en la red durante el mes de julio.",
            "demands": "\n".join([
                "Eliminar los grupos que organizan el odio, el acoso y la violencia.",
                "Etiquetar la desinformación y dejar de promocionarla, también en los anuncios de pago.",
                "Dar a las personas atacadas por el odio una forma de hablar con un ser humano.",
                "Someterse a una auditoría independiente periódica y publicarla.",
            ]),
            "share_text": "Las marcas pausan sus anuncios durante un mes hasta que la red actúe contra el odio. Yo ya he firmado. Súmate:",
            "next_action": "La pausa ha terminado. Sigue preguntando a las marcas si han vuelto a anunciarse y apúntate para recibir novedades sobre los próximos pasos.",
        },
        "fr": {
            "title": "Stop Hate for Profit\u00a0: suspendez vos publicités en juillet",
            "summary": "Les marques suspendent leurs publicités payantes sur le réseau pendant tout le mois de juillet, jusqu’à ce qu’il agisse contre la haine et la désinformation\u00a0; les clients signent pour les soutenir.",
            "story": """\
Pendant tout le mois de juillet, nous demandons à chaque annonceur de
**cesser de payer des publicités** sur le réseau tant qu’il n’agit pas
contre la haine et la désinformation.

La publicité, c’est ce qui fait vivre la plateforme. Quand les marques
coupent leurs dépenses toutes ensemble, ceux qui la dirigent écoutent comme
ils ne le font jamais quand les utilisateurs se plaignent chacun de leur
côté.

### Comment agir
1. Signez l’engagement sur cette page pour soutenir le boycott en tant que
   client.
2. Si vous avez une entreprise, rejoignez le mouvement en tant
   qu’entreprise en bas de cette page, et suspendez vos publicités payantes
   sur le réseau pendant tout le mois de juillet.
3. Faites savoir aux marques que vous achetez que vous l’avez remarqué.

Une entreprise apparaît dans la liste de cette page dès que son adresse de
contact a confirmé l’engagement et que nous l’avons vérifié. Le tableau de
suivi plus haut montre comment l’entreprise a répondu jusqu’ici à chaque
revendication.
""",
            "pledge_text": "Je soutiens le boycott des annonceurs. Je dirai aux marques que j’achète que je veux qu’elles suspendent leurs publicités sur le réseau pendant le mois de juillet.",
            "demands": "\n".join([
                "Supprimer les groupes qui organisent la haine, le harcèlement et la violence.",
                "Signaler la désinformation et cesser de la promouvoir, y compris dans les publicités payantes.",
                "Donner aux personnes visées par la haine un moyen de parler à un être humain.",
                "Se soumettre à un audit indépendant régulier, et le publier.",
            ]),
            "share_text": "Des marques suspendent leurs publicités pendant un mois, jusqu’à ce que le réseau agisse contre la haine. J’ai signé. Rejoignez-nous\u00a0:",
            "next_action": "La pause est terminée. Continuez de demander aux marques si elles sont revenues, et inscrivez-vous pour être tenu au courant de la suite.",
        },
        "ar": {
            "title": "أوقفوا الكراهية مقابل الربح: علّقوا إعلاناتكم طوال يوليو",
            "summary": "تعلّق العلامات التجارية إعلاناتها المدفوعة على الشبكة طوال شهر يوليو، إلى أن تتخذ إجراءات ضد الكراهية والتضليل؛ ويوقّع الزبائن لمساندتها.",
            "story": """\
طوال شهر يوليو، نطلب من كل معلن أن **يتوقف عن الدفع مقابل الإعلانات** على
الشبكة إلى أن تتخذ إجراءات ضد الكراهية والتضليل.

الإعلانات هي مصدر دخل المنصة. وحين تُوقف العلامات التجارية إنفاقها معًا،
يُصغي القائمون عليها كما لا يُصغون أبدًا حين يشتكي المستخدمون كلٌّ على حدة.

### كيف يمكنك المساعدة
1. وقّع التعهد في هذه الصفحة لتساند المقاطعة بصفتك زبونًا.
2. إن كنت تدير نشاطًا تجاريًا، فانضم بصفتك شركة في أسفل هذه الصفحة، وعلّق
   إعلاناتك المدفوعة على الشبكة طوال شهر يوليو.
3. أخبر العلامات التجارية التي تشتري منها أنك لاحظت ذلك.

تظهر الشركة في القائمة على هذه الصفحة بعد أن يؤكد عنوان التواصل الخاص بها
التعهد ونتحقق منه. ويبيّن جدول المتابعة في أعلى الصفحة كيف ردّت الشركة على
كل مطلب حتى الآن.
""",
            "pledge_text": "أؤيد مقاطعة المعلنين. سأخبر العلامات التجارية التي أشتري منها أنني أريدها أن تعلّق إعلاناتها على الشبكة طوال شهر يوليو.",
            "demands": "\n".join([
                "إزالة المجموعات التي تنظّم الكراهية والتحرش والعنف.",
                "وسم المعلومات المضللة والتوقف عن الترويج لها، بما في ذلك في الإعلانات المدفوعة.",
                "منح من تستهدفهم الكراهية وسيلةً للتحدث إلى إنسان حقيقي.",
                "الخضوع لتدقيق مستقل منتظم، ونشر نتائجه.",
            ]),
            "share_text": "تعلّق علامات تجارية إعلاناتها لمدة شهر حتى تتحرك الشبكة ضد الكراهية. لقد وقّعت. انضموا إلينا:",
            "next_action": "انتهى التعليق. واصلوا سؤال العلامات التجارية عمّا إذا كانت قد عادت إلى الإعلان، واشتركوا لتصلكم المستجدات حول الخطوة التالية.",
        },
    },
    "walkaway": {
        "es": {
            "title": "Desconéctate hasta que nos escuchen",
            "summary": "Elige el día en que te desconectas y no vuelvas hasta que la plataforma cumpla tres exigencias.",
            "story": """\
Cada día entregamos a una plataforma nuestra atención, nuestros datos y
nuestra paciencia, y cada día nos devuelve más indignación y menos de la
gente que nos importa.

Este es un compromiso para **desconectarnos y no volver hasta que la
plataforma cumpla nuestras exigencias**: elige el día en que empiezas, borra
la aplicación del móvil, descarga tu archivo y deja de darle de comer al
algoritmo. Una cuenta que se va es un error de redondeo. Miles que se van a
la vez, cada una con su motivo, son un titular que la empresa no puede
ignorar.

Si nos cuentas por qué te vas y aceptas mostrarlo, tu motivo podrá aparecer
en esta página una vez que lo hayamos leído.
""",
            "pledge_text": "Me comprometo a desconectarme de la plataforma a partir del día que elija y a no volver hasta que cumpla estas exigencias: borraré la aplicación, descargaré mis datos y dejaré de publicar.",
            "demands": "\n".join([
                "Que podamos llevarnos nuestros datos y nuestros seguidores.",
                "Que se acabe el scroll infinito pensado para tenernos enganchados.",
                "Que deje de vender lo que hacemos a anunciantes que nunca elegimos.",
            ]),
            "date_question": "Me desconectaré a partir del",
            "share_text": "Me he comprometido a desconectarme hasta que la plataforma nos escuche. Si nos vamos suficientes a la vez, no le quedará otra:",
        },
        "fr": {
            "title": "Déconnectez-vous jusqu’à ce qu’ils nous écoutent",
            "summary": "Choisissez le jour où vous vous déconnectez, et ne revenez pas tant que la plateforme n’a pas satisfait trois revendications.",
            "story": """\
Chaque jour, nous offrons à une plateforme notre attention, nos données et
notre patience, et chaque jour elle nous rend plus de colère et moins des
gens qui comptent pour nous.

Cet engagement, c’est **se déconnecter, et ne pas revenir tant que la
plateforme n’a pas satisfait nos revendications**\u00a0: choisissez le jour où
vous commencez, supprimez l’application de votre téléphone, téléchargez
votre archive et cessez de nourrir le fil. Un compte qui part, c’est une
erreur d’arrondi. Des milliers qui partent ensemble, chacun avec sa raison,
c’est un gros titre que l’entreprise ne peut pas ignorer.

Si vous nous dites pourquoi vous partez et acceptez que ce soit affiché,
votre raison pourra apparaître sur cette page une fois que nous l’aurons
lue.
""",
            "pledge_text": "Je m’engage à me déconnecter de la plateforme à partir du jour que je choisis, et à ne pas revenir tant qu’elle n’a pas satisfait ces revendications\u00a0: je supprimerai l’application, je téléchargerai mes données et je cesserai de publier.",
            "demands": "\n".join([
                "Laisser chacun partir avec ses données et ses abonnés.",
                "Mettre fin au fil sans fin conçu pour nous faire défiler encore et encore.",
                "Cesser de vendre ce que nous faisons à des annonceurs que nous n’avons jamais choisis.",
            ]),
            "date_question": "Je me déconnecterai à partir du",
            "share_text": "J’ai promis de me déconnecter jusqu’à ce que la plateforme nous écoute. Si nous partons assez nombreux ensemble, elle n’aura pas le choix\u00a0:",
        },
        "ar": {
            "title": "غادِر المنصة حتى يستمعوا إلينا",
            "summary": "اختر اليوم الذي تغادر فيه المنصة، وابقَ بعيدًا عنها حتى تلبي ثلاثة مطالب.",
            "story": """\
كل يوم نمنح منصةً انتباهنا وبياناتنا وصبرنا، وكل يوم تردّ علينا بمزيد من
الغضب وبقدر أقل من الناس الذين نهتم لأمرهم.

هذا تعهد بأن **نغادر المنصة ونبقى بعيدين عنها حتى تلبي مطالبنا**: اختر
اليوم الذي تبدأ فيه، واحذف التطبيق من هاتفك، ونزّل أرشيفك، وتوقف عن تغذية
الخلاصة. حساب واحد يغادر لا يكاد يُلحظ، أما آلاف الحسابات التي تغادر معًا،
ولكلٍّ منها سببه، فهي عنوان رئيسي لا تستطيع الشركة تجاهله.

إن أخبرتنا لماذا تغادر ووافقت على عرض سببك، فقد يظهر على هذه الصفحة بعد أن
نقرأه.
""",
            "pledge_text": "أتعهد بمغادرة المنصة ابتداءً من اليوم الذي أختاره، وبالبقاء بعيدًا عنها حتى تلبي هذه المطالب: سأحذف التطبيق، وأنزّل بياناتي، وأتوقف عن النشر.",
            "demands": "\n".join([
                "أن يتمكن الناس من أخذ بياناتهم ومتابعيهم معهم.",
                "إيقاف الخلاصة اللانهائية المصممة لإبقائنا نمرّر الشاشة بلا توقف.",
                "التوقف عن بيع ما نفعله لمعلنين لم نخترهم قط.",
            ]),
            "date_question": "سأغادر المنصة ابتداءً من",
            "share_text": "تعهدت بمغادرة المنصة حتى تستمع إلينا. إن غادرناها معًا بأعداد كافية، فلن يكون أمامها خيار:",
        },
    },
    "account-freeze": {
        "es": {
            "title": "Apagón de 24 horas: congela tu cuenta",
            "summary": "Un día sin publicar: a partir de las 9:00 de la mañana, estés donde estés, todos guardamos silencio durante 24 horas.",
            "story": """\
Durante veinticuatro horas, todos guardamos silencio. Ni publicaciones, ni
respuestas, ni historias.

Un día de silencio de miles de cuentas le enseña a la plataforma lo que es
sin nosotros. Es la protesta más sencilla que existe, y funciona mejor
cuando la hacemos juntos: desde las nueve de la mañana en cada reloj, estés
donde estés.

### Los pasos
1. A las 9:00 de tu hora, publica una vez la declaración de esta página, con
   el enlace a esta página.
2. Después, silencio: ni publicaciones, ni «me gusta», ni respuestas durante
   24 horas.
3. Si pediste recordatorios, te escribimos el día antes y cuando empiece, y
   después te preguntamos si participaste: esta página mostrará entonces
   cuántas personas lo hicieron.
""",
            "pledge_text": "Me sumo al apagón: publicaré la declaración y después no publicaré, no daré «me gusta» ni responderé durante 24 horas a partir de las 9:00 de mi hora.",
            "demands": "\n".join([
                "Que aplique sus propias normas contra el discurso de odio, siempre y con todos por igual.",
                "Que explique cada suspensión de cuenta y ofrezca una apelación de verdad.",
            ]),
            "share_text": "Durante 24 horas, guardamos silencio juntos. Yo congelo mi cuenta. Súmate al apagón:",
            "statement": "Durante las próximas 24 horas congelo mi cuenta: sin publicaciones, «me gusta» ni respuestas. Le pido a la plataforma que aplique sus propias normas contra el discurso de odio y que explique cada suspensión con una apelación de verdad. Súmate:",
            "next_action": "El apagón ha terminado, pero las exigencias siguen en pie. Apúntate a las novedades para enterarte de la próxima jornada de acción.",
        },
        "fr": {
            "title": "24 heures de silence\u00a0: gelez votre compte",
            "summary": "Une journée sans publier\u00a0: à partir de 9\u00a0h du matin, où que vous soyez, nous nous taisons tous pendant 24 heures.",
            "story": """\
Pendant vingt-quatre heures, nous nous taisons tous. Pas de publications,
pas de réponses, pas de stories.

Une journée de silence de milliers de comptes montre à la plateforme ce
qu’elle est sans nous. C’est la protestation la plus simple qui soit, et
elle marche d’autant mieux que nous la faisons ensemble\u00a0: à partir de neuf
heures du matin à chaque horloge, où que vous soyez.

### Les étapes
1. À 9\u00a0h, heure locale, publiez une fois la déclaration de cette page,
   avec le lien vers cette page.
2. Puis, silence\u00a0: ni publications, ni «\u00a0j’aime\u00a0», ni réponses pendant
   24 heures.
3. Si vous avez demandé des rappels, nous vous écrivons la veille et au
   moment où cela commence, puis nous vous demandons si vous avez
   participé\u00a0: cette page indique alors combien l’ont fait.
""",
            "pledge_text": "Je participe au gel\u00a0: je publierai la déclaration, puis je ne publierai rien, n’aimerai rien et ne répondrai à rien pendant 24 heures à partir de 9\u00a0h, heure locale.",
            "demands": "\n".join([
                "Appliquer ses propres règles contre les discours de haine, de façon cohérente.",
                "Expliquer chaque suspension de compte, et offrir un vrai recours.",
            ]),
            "share_text": "Pendant 24 heures, on se tait ensemble. Je gèle mon compte. Rejoignez le gel\u00a0:",
            "statement": "Pendant les prochaines 24 heures, je gèle mon compte\u00a0: ni publications, ni «\u00a0j’aime\u00a0», ni réponses. Je demande à la plateforme d’appliquer ses propres règles contre les discours de haine, et d’expliquer chaque suspension avec un vrai recours. Rejoignez-moi\u00a0:",
            "next_action": "Le gel est terminé, mais les revendications demeurent. Inscrivez-vous aux nouvelles pour connaître la prochaine journée d’action.",
        },
        "ar": {
            "title": "24 ساعة من الصمت: جمّد حسابك",
            "summary": "يوم واحد بلا منشورات: ابتداءً من الساعة 9:00 صباحًا، أينما كنت، نصمت جميعًا لمدة 24 ساعة.",
            "story": """\
لمدة أربع وعشرين ساعة، نصمت جميعًا. لا منشورات، ولا ردود، ولا قصص.

يومٌ من الصمت تلتزم به آلاف الحسابات يُري المنصة ما هي عليه من دوننا. إنه
أبسط احتجاج ممكن، وينجح أكثر حين نقوم به معًا: من التاسعة صباحًا على كل
ساعة، أينما كنت.

### الخطوات
1. في الساعة 9:00 بتوقيتك، انشر البيان الموجود في هذه الصفحة مرة واحدة، مع
   رابط هذه الصفحة.
2. ثم الصمت: لا منشورات ولا إعجابات ولا ردود لمدة 24 ساعة.
3. إن طلبت تذكيرات، نراسلك في اليوم السابق وعند البداية، ثم نسألك بعدها إن
   كنت قد شاركت: وتعرض هذه الصفحة حينها عدد من شاركوا.
""",
            "pledge_text": "سأنضم إلى التجميد: سأنشر البيان، ثم لن أنشر ولن أعجب بشيء ولن أرد لمدة 24 ساعة ابتداءً من الساعة 9:00 بتوقيتي.",
            "demands": "\n".join([
                "تطبيق قواعد المنصة نفسها بشأن خطاب الكراهية، وبشكل متّسق.",
                "تفسير كل تعليق لحساب، وإتاحة طعن حقيقي.",
            ]),
            "share_text": "لمدة 24 ساعة، نصمت معًا. سأجمّد حسابي. انضموا إلى التجميد:",
            "statement": "خلال الساعات الأربع والعشرين القادمة سأجمّد حسابي: لا منشورات ولا إعجابات ولا ردود. أطالب المنصة بتطبيق قواعدها نفسها بشأن خطاب الكراهية، وبتفسير كل تعليق للحسابات مع إتاحة طعن حقيقي. انضموا إليّ:",
            "next_action": "انتهى التجميد، لكن المطالب باقية. اشتركوا في المستجدات لتعرفوا موعد يوم التحرك القادم.",
        },
    },
}

# What every page of the demo site shows (see site_settings).
DEMO_SITE = {
    "site_name": "Fair Feeds",
    "logo_text": "Fair Feeds",
    "favicon_text": "FF",
    "organiser_name": "Fair Feeds, a demonstration coalition",
    "contact_email": "hello@fairfeeds.example",
}


def _at(zone: str, day: dt.date, hour: int) -> dt.datetime:
    """A local wall-clock time in ``zone`` as naive UTC."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def demo_campaigns(today: dt.date) -> list[dict]:
    july = dt.date(today.year + (today.month > 7), 7, 1)
    local_start = dt.datetime.combine(today + dt.timedelta(days=14), dt.time(9))
    first_start, last_end = local_span(local_start, local_start + dt.timedelta(days=1))
    return [
        {
            "slug": "stop-hate-for-profit",
            "kind": Kind.BOYCOTT,
            "title": "Stop Hate for Profit: pause your ads for July",
            "summary": "Brands pause their paid ads on the network for the month of July, until it acts on hate and disinformation; customers sign to back them.",
            "story": BOYCOTT_STORY,
            "pledge_text": "I support the advertiser boycott. I will tell the brands I buy from that I want them to pause their ads on the network for the month of July.",
            "demands": "\n".join([
                "Remove groups that organise hate, harassment and violence.",
                "Label and stop promoting disinformation, including in paid ads.",
                "Give people targeted by hate a way to talk to a human being.",
                "Submit to a regular independent audit, and publish it.",
            ]),
            "goal": 10000,
            "window_start": _at("America/Los_Angeles", july, 0),
            "window_end": _at("America/Los_Angeles", july + dt.timedelta(days=31), 0),
            "time_zone": "America/Los_Angeles",
            "share_text": "Brands are pausing their ads for a month until the network acts on hate. I've signed. Join in:",
            "next_action": "The pause is over. Keep asking brands whether they went back, and sign up for updates on what comes next.",
        },
        {
            "slug": "walkaway",
            "kind": Kind.PLEDGE,
            "title": "Log off until they listen",
            "summary": "Choose the day you log off, and stay off until the platform meets three demands.",
            "story": PLEDGE_STORY,
            "pledge_text": "I pledge to log off the platform from the day I choose, and to stay off until it meets these demands: I will delete the app, download my data and stop posting.",
            "demands": "\n".join([
                "Let people take their data and their followers with them.",
                "Stop the endless feed designed to keep us scrolling.",
                "Stop selling what we do to advertisers we never chose.",
            ]),
            "goal": 1000,
            "asks_date": True,
            "date_question": "I will log off from",
            "asks_reason": True,
            "share_text": "I've pledged to log off until the platform listens. If enough of us leave together, it has to:",
        },
        {
            "slug": "account-freeze",
            "kind": Kind.FREEZE,
            "title": "24-hour account freeze",
            "summary": "One day, no posts: from 9:00 in the morning, wherever you are, we all go quiet for 24 hours.",
            "story": FREEZE_STORY,
            "pledge_text": "I'll join the freeze: I will post the statement, then not post, like or reply for 24 hours from 9:00 my time.",
            "demands": "\n".join([
                "Enforce the platform's own rules on hate speech, consistently.",
                "Explain every account suspension, and offer a real appeal.",
            ]),
            "goal": 5000,
            "window_mode": WindowMode.LOCAL,
            "local_start": local_start,
            "local_end": local_start + dt.timedelta(days=1),
            "window_start": first_start,
            "window_end": last_end,
            "time_zone": "Europe/London",
            "share_text": "For 24 hours, we go quiet together. I'm freezing my account. Join the freeze:",
            "statement": "For the next 24 hours I'm freezing my account: no posts, likes or replies. I'm asking the platform to enforce its own rules on hate speech, and to explain every suspension with a real appeal. Join me:",
            "check_in_email": True,
            "next_action": "The freeze is over, but the demands stand. Sign up for updates to hear about the next day of action.",
        },
    ]


def seed_demo_campaigns(today: dt.date | None = None) -> list[Campaign]:
    """Create whichever demo campaigns do not exist yet, and whichever of
    their translations; returns the campaigns created."""
    today = today or dt.datetime.now(dt.UTC).date()
    existing = set(db.session.execute(select(Campaign.slug)).scalars())
    created = [
        Campaign(status=CampaignStatus.LIVE, **fields)
        for fields in demo_campaigns(today)
        if fields["slug"] not in existing
    ]
    db.session.add_all(created)
    db.session.flush()
    _translate_demo_campaigns()
    for name, value in DEMO_SITE.items():
        if not site_settings.value(name):  # an admin's own choice stays
            site_settings.change(name, value)
    db.session.commit()
    return created


def _translate_demo_campaigns() -> None:
    """Each demo campaign's translations it does not have yet, published
    (a translation an organiser has meanwhile unpublished stays so)."""
    campaigns = db.session.execute(select(Campaign).where(Campaign.slug.in_(DEMO_TRANSLATIONS))).scalars()
    for campaign in campaigns:
        had = {row.language for row in campaign.translations}
        added = [language for language in DEMO_TRANSLATIONS[campaign.slug] if language not in had]
        for language in added:
            db.session.add(CampaignTranslation(campaign_id=campaign.id, language=language,
                                               **DEMO_TRANSLATIONS[campaign.slug][language]))
        if added:
            published = list(campaign.published_languages or ())
            campaign.published_languages = published + [language for language in added if language not in published]
