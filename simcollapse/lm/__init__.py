"""Language models: small GPTs trained on real plus synthetic stories (paper Section 5).

The data flow: real stories (a user corpus or the built-in grammar with exact entropy) ->
tokeniser -> generator GPT -> synthetic stories -> student GPTs of several sizes at each
synthetic fraction p2 -> tidy tables in the result store -> figures ``lm_synthetic_fraction``,
``lm_model_size`` and ``lm_depth`` (registered on import).
"""

from simcollapse.lm import depth as _depth  # noqa: F401  (registers lm_depth)
from simcollapse.lm import figures as _figures  # noqa: F401  (registers the figures)
from simcollapse.lm.corpus import (
    BPETokenizer,
    ByteTokenizer,
    RealSplits,
    Rows,
    bpe_tokenizer,
    encode_rows,
    load_corpus,
    split_stories,
)
from simcollapse.lm.depth import DEPTHS, depth_experiment, loss_order_by_depth
from simcollapse.lm.experiment import (
    PAPER_P2S,
    LMData,
    LMExperiment,
    prepare_data,
    run_generator,
    run_lm_experiment,
)
from simcollapse.lm.figures import (
    FILTER_FRAC,
    default_experiment,
    final_loss_rank_correlation,
    full_experiment,
    level_experiment,
    quick_experiment,
)
from simcollapse.lm.grammar import StoryGrammar, default_grammar
from simcollapse.lm.model import GPT, SIZES, GPTConfig, KVCache, count_params, token_nll
from simcollapse.lm.sample import generate, sample_logits, top_p_mask
from simcollapse.lm.train import TrainConfig, TrainResult, evaluate, make_optimizer, train

__all__ = [
    "DEPTHS",
    "FILTER_FRAC",
    "BPETokenizer",
    "ByteTokenizer",
    "GPT",
    "GPTConfig",
    "KVCache",
    "LMData",
    "LMExperiment",
    "PAPER_P2S",
    "RealSplits",
    "Rows",
    "SIZES",
    "StoryGrammar",
    "TrainConfig",
    "TrainResult",
    "bpe_tokenizer",
    "count_params",
    "default_experiment",
    "default_grammar",
    "depth_experiment",
    "encode_rows",
    "evaluate",
    "final_loss_rank_correlation",
    "full_experiment",
    "generate",
    "level_experiment",
    "load_corpus",
    "loss_order_by_depth",
    "make_optimizer",
    "prepare_data",
    "quick_experiment",
    "run_generator",
    "run_lm_experiment",
    "sample_logits",
    "split_stories",
    "token_nll",
    "top_p_mask",
    "train",
]
