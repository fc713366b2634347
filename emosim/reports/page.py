"""The report's HTML page: one self-contained file (no scripts, no network), images either
relative PNG files beside it or embedded as data: URIs."""

from __future__ import annotations

import base64

from jinja2 import Environment, StrictUndefined

from .models import ReportFigures

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>emosim quality report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: .6rem 0; }
p.note { color: #555; font-size: .9rem; } .bad { color: #b03a2e; font-weight: 600; }
</style>
</head>
<body>
<h1>emosim quality report</h1>
<p class="note">Generated {{ f.generated_at.strftime("%Y-%m-%d %H:%M UTC") }} from
{{ f.conversations }} conversation(s)
({% for k, v in f.sources.items() %}{{ k }}: {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}).
All numbers are in <a href="figures.json">figures.json</a>.</p>
<p class="note">Inputs: {% for i in f.inputs %}<code>{{ i }}</code>{% if not loop.last %}, {% endif %}{% endfor %}</p>
{% if f.labels %}<p class="note">Labels applied: {{ f.labels.describe() }}{% if f.labels.changed_by_field %}
(by field: {% for k, v in f.labels.changed_by_field.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %};
policy {{ f.labels.policy | join(" &gt; ") | safe }}.</p>{% endif %}

<h2>Summary</h2>
<table>
{% for name, value in headline %}<tr><th>{{ name }}</th><td class="num">{{ value }}</td></tr>
{% endfor %}</table>

<h2>Emotion trajectories</h2>
<p class="note">Mean valence and intensity of the client's true state (hidden arc) and of the
turn's emotion annotation (the observer's reading; the author's in hand-authored seeds), per
exchange, for each length class.</p>
{{ img("trajectories", "Emotion trajectories per length class") }}

<h2>Observer accuracy on human text</h2>
<p class="note">How well each emotion observer reads people's messages: scores on human-labelled
text the model did not train on, measured when the model was trained and stored in its file
(emotion: <code>emosim observer train --measure</code>; strategy: <code>emosim observer train
--kind strategy --cv N</code>). These, not the agreement below, are the figures to quote for
real users' text.</p>
{% if f.human_text %}
<table>
<tr><th>observer</th><th>data</th><th>level</th><th>n</th><th>accuracy</th><th>macro-F1</th>
<th>majority baseline</th><th>reproduce</th></tr>
{% for o in f.human_text %}{% if o.scores %}{% for s in o.scores %}
<tr><td><code>{{ o.observer }}</code></td><td>{{ s.dataset }}: {{ s.split }}</td><td>{{ s.level }}</td>
<td class="num">{{ s.n }}</td><td class="num">{{ "%.3f" % s.accuracy }}</td>
<td class="num">{{ "%.3f" % s.macro_f1 }}</td>
<td class="num">{% if s.baseline_accuracy is not none %}{{ "%.3f" % s.baseline_accuracy }}{% endif %}</td>
<td><code>{{ s.command }}</code></td></tr>
{% endfor %}{% else %}
<tr><td><code>{{ o.observer }}</code></td><td colspan="7">No figures: {{ o.note }}.</td></tr>
{% endif %}{% endfor %}
</table>
{% for o in f.human_text %}{% if o.license %}<p class="note"><code>{{ o.observer }}</code>: labels
inherit {{ o.license }} from its training data.</p>{% endif %}{% endfor %}
{% else %}
<p class="note">No turn carries an emotion or strategy observer's reading.</p>
{% endif %}

<h2>Agreement on simulated text: observer vs the hidden arc</h2>
{% if f.observer %}
<p class="note">{{ f.observer.n }} client turns of simulated records, observed by
{{ f.observer.observer | join(", ") }}. Macro-F1 is over the labels seen in truth or prediction.
This is agreement on text the simulator wrote (from material the observer never reads), not
accuracy on people's messages: for that, <code>emosim eval emotions --goemotions
data/goemotions/dev.tsv --level family</code> and <code>emosim eval emotions --esconv
data/esconv_sample/train_sample.json</code> score the observer on human-labelled text.</p>
<table>
<tr><th></th><th>accuracy</th><th>macro-F1</th></tr>
<tr><th>emotion (member)</th><td class="num">{{ "%.3f" % f.observer.emotion.accuracy }}</td>
<td class="num">{{ "%.3f" % f.observer.emotion.macro_f1 }}</td></tr>
<tr><th>family</th><td class="num">{{ "%.3f" % f.observer.family.accuracy }}</td>
<td class="num">{{ "%.3f" % f.observer.family.macro_f1 }}</td></tr>
<tr><th>intensity level</th><td class="num">{{ "%.3f" % f.observer.level_accuracy }}</td><td></td></tr>
<tr><th>intensity MAE</th><td class="num">{{ "%.3f" % f.observer.intensity_mae }}</td><td></td></tr>
</table>
{{ img("observer_emotion", "Confusion matrix, emotion members") }}
{{ img("observer_family", "Confusion matrix, emotion families") }}
{% else %}
<p class="note">No client turn of a simulated record has both a true state and an annotation.</p>
{% endif %}

<h2>Coverage: emotion x intensity</h2>
<p class="note">Counted on the {{ f.coverage.basis }} ({{ f.coverage.client_turns }} client turns,
{{ f.coverage.from_ground_truth }} with a true state). Targets:
{{ f.coverage.targets_file or "defaults" }}. {{ f.coverage.targets_met }} of
{{ f.coverage.targets_total }} targets are met (emotions, strategies, lengths and anti-patterns,
counted as <code>emosim coverage</code> counts them); {{ f.coverage.cells_met }} of
{{ f.coverage.cells_total }} emotion x intensity cells meet theirs.</p>
{{ img("coverage", "Emotion by intensity coverage heatmap") }}
<table><tr><th>length class</th><th>conversations</th><th>target</th></tr>
{% for c, n in f.coverage.lengths.items() %}<tr><td>{{ c }}</td><td class="num">{{ n }}</td>
<td class="num">{{ f.coverage.length_targets[c] }}</td></tr>
{% endfor %}</table>

<h2>Strategies</h2>
<p class="note">Primary strategy of each advisor turn as planned by the advisor and as read by the
strategy observer{% if f.strategies.observer_agreement is not none %} (agreement
{{ "%.3f" % f.strategies.observer_agreement }}){% endif %}.</p>
{{ img("strategies", "Strategy distribution") }}

<h2>Strategy outcomes</h2>
<p class="note">{{ f.outcomes.rule }}</p>
{{ img("outcomes", "Movement of the next true state per strategy") }}
{{ img("next_emotions", "Next true emotion per strategy") }}
<table><tr><th>strategy</th><th>n</th><th>advanced</th><th>stalled</th><th>regressed</th>
<th>most frequent next emotions</th></tr>
{% for r in f.outcomes.rows %}<tr><td>{{ r.strategy }}</td><td class="num">{{ r.n }}</td>
<td class="num">{{ r.advanced }}</td><td class="num">{{ r.stalled }}</td>
<td class="num">{{ r.regressed }}</td>
<td>{% for e, n in r.next_emotions.items() %}{% if loop.index <= 3 %}{{ e }} {{ n }}{% if not loop.last and loop.index < 3 %}, {% endif %}{% endif %}{% endfor %}</td></tr>
{% endfor %}</table>

<h2>Critic rejections</h2>
<p class="note">{{ f.rejections.rejected_drafts }} rejected drafts over
{{ f.rejections.advisor_turns }} advisor turns{% if f.rejections.first_pass_rate is not none %};
first-pass acceptance {{ "%.3f" % f.rejections.first_pass_rate }}{% endif %}.</p>
{{ img("rejections", "Critic rejection reasons") }}

<h2>Compliance</h2>
<p class="note">Findings with codes {{ f.compliance.codes | join(", ") }}; compliance-boundary
findings are shown by boundary.
{% if f.compliance.sent_replies_with_findings %}<span class="bad">{{ f.compliance.sent_replies_with_findings }}
sent replies carry a compliance finding.</span>{% else %}No sent reply carries one.{% endif %}</p>
{{ img("compliance", "Compliance findings") }}

<h2>Lengths</h2>
<p class="note">Client turns: mean {{ f.lengths.client_words.mean }} words; advisor turns: mean
{{ f.lengths.advisor_words.mean }} words.</p>
{{ img("lengths", "Conversation and turn lengths") }}

<h2>Diversity</h2>
<p class="note">distinct-n = unique word n-grams / all word n-grams. Near duplicates: another turn of
the same speaker with a word {{ f.diversity.shingle_words }}-gram Jaccard of at least
{{ f.diversity.threshold }}.</p>
{{ img("diversity", "Lexical diversity") }}
<table><tr><th></th><th>turns</th><th>distinct-1</th><th>distinct-2</th><th>near-duplicate rate</th></tr>
{% for who in ["client", "advisor"] %}{% set d = f.diversity[who] %}<tr><th>{{ who }}</th>
<td class="num">{{ d.texts }}</td><td class="num">{{ "%.3f" % d.distinct_1 }}</td>
<td class="num">{{ "%.3f" % d.distinct_2 }}</td><td class="num">{{ "%.3f" % d.near_duplicate_rate }}</td></tr>
{% endfor %}</table>
{% set c = f.diversity.conversations %}
<p class="note">Whole conversations (as <code>emosim coverage</code> reports them): near-duplicate
rate {{ "%.4f" % c.near_duplicate_rate }} ({{ c.near_duplicate_pairs }} pair(s) at Jaccard
&ge; {{ c.threshold }} over word {{ c.shingle_size }}-grams, {{ c.conversations }}
conversations). The rates in the table are per turn, a different measure.</p>

{% if f.preferences %}{% set p = f.preferences %}
<h2>Human preference review</h2>
<p class="note">{{ p.ranked_sets }} of {{ p.candidate_sets }} candidate set(s) ranked
({{ p.rankings }} ranking(s)), giving {{ p.preference_pairs }} preference pair(s); the reply that
was sent scored best in {{ p.original_ranked_first }}. {{ p.reviewed_conversations }}
conversation(s) reviewed{% for k, v in p.verdicts.items() %}, {{ k }} {{ v }}{% endfor %}{% for k, v in p.mean_scores.items() %}; mean {{ k | replace("_", " ") }} {{ "%.2f" % v }}{% endfor %}.
Agreement is Krippendorff's alpha: 1 perfect, 0 chance, undefined (n/a) with fewer than two
reviewers on any task.</p>
<table><tr><th>task</th><th>level</th><th>alpha</th><th>units</th><th>reviewers</th><th>judgements</th></tr>
{% for a in p.agreement %}<tr><td>{{ a.task }}</td><td>{{ a.level }}</td>
<td class="num">{{ "n/a" if a.alpha is none else "%.3f" % a.alpha }}</td><td class="num">{{ a.units }}</td>
<td class="num">{{ a.reviewers }}</td><td class="num">{{ a.judgements }}</td></tr>
{% endfor %}</table>
{% endif %}

<h2>Model cost</h2>
<p class="note">Known cost ${{ "%.4f" % f.cost.cost_usd }}{% if f.cost.unpriced_conversations %};
<span class="bad">{{ f.cost.unpriced_conversations }} conversation(s) used a paid backend without a
reported cost</span>{% endif %}.{% for k, v in f.cost.tokens.items() %} {{ k }}: {{ v | int }}.{% endfor %}</p>
<table><tr><th>role</th><th>backend</th><th>model</th><th>conversations</th><th>cost</th></tr>
{% for r in f.cost.rows %}<tr><td>{{ r.role }}</td><td>{{ r.backend }}</td><td>{{ r.model or "" }}</td>
<td class="num">{{ r.conversations }}</td><td>{{ "free" if r.free else "paid" }}</td></tr>
{% endfor %}</table>
</body>
</html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)


def plot_path(name: str) -> str:
    return f"plots/{name}.png"


def render_page(
    figures: ReportFigures, headline: list[tuple[str, str]], plots: dict[str, bytes], *, embed: bool
) -> str:
    """The HTML; `embed` inlines every PNG so the page is one file."""
    from markupsafe import Markup, escape

    def img(name: str, alt: str) -> Markup:
        if name not in plots:
            return Markup("")
        if embed:
            src = "data:image/png;base64," + base64.b64encode(plots[name]).decode("ascii")
        else:
            src = plot_path(name)
        return Markup(f'<img src="{escape(src)}" alt="{escape(alt)}">')

    return _ENV.from_string(_TEMPLATE).render(f=figures, headline=headline, img=img)
