"""Per-word explanations of a sentiment model's decision (integrated gradients, occlusion).

``Explainer(bundle).explain(text, method="ig", target=None)`` returns an :class:`Explanation`
whose words are those of the original text; :func:`fast_token_attributions` scores a whole
padded batch in one backward pass for batch analysis.
"""

from core.explain.attribution import (
    class_probabilities,
    fast_token_attributions,
    gradient_x_input,
    occlusion,
)
from core.explain.decomposition import decompose
from core.explain.explainer import (
    METHODS,
    UNITS,
    Explainer,
    Explanation,
    Phrase,
    WordScore,
    explain,
)
from core.explain.faithfulness import Faithfulness, faithfulness, top_count
from core.explain.integrated import IntegratedGradientsResult, integrated_gradients
from core.explain.phrases import PhraseAnalysis, PhraseScore, analyse_phrases, flip_sentence
from core.explain.trajectory import trajectory
from core.explain.words import Alignment, align, word_spans

__all__ = [
    "METHODS", "UNITS", "Alignment", "Explainer", "Explanation", "Faithfulness",
    "IntegratedGradientsResult", "Phrase", "PhraseAnalysis", "PhraseScore", "WordScore",
    "align", "analyse_phrases", "class_probabilities", "decompose", "explain",
    "flip_sentence", "faithfulness", "fast_token_attributions",
    "gradient_x_input", "integrated_gradients", "occlusion", "top_count", "trajectory",
    "word_spans",
]
