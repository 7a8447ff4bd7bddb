"""moesim_record: records router traces from Hugging Face transformers MoE models in
moesim's trace format (traces/FORMAT.md), with cross-layer gate predictions.

Run ``python -m moesim_record --help`` from ``traces/record/`` (or with it on PYTHONPATH).
"""

__version__ = "0.1.0"
