"""Production-size models for `npm run bench:production`, random weights, generated at bench time
and cached (never committed):

  OUT/bert-base-hf/        BERT-base-shaped BertModel (12 layers, 768 wide, 12 heads, 3072 FFN,
                           30522 vocab, 512 positions) in Hugging Face's layout (config.json,
                           tokenizer.json, onnx/model.onnx): served as text_embedding
  OUT/bert-base.onnx       the same graph, served as a plain ONNX model (input_ids,
                           attention_mask, token_type_ids INT64 [N, S] -> last_hidden_state)
  OUT/resnet50.onnx        torchvision ResNet-50, input FP32 [N,3,224,224] -> output FP32 [N,1000]

The BERT forward pass and the tokenizer are the test fixtures' (scripts/fixtures), at BERT-base
size; the tokenizer's vocabulary stays the fixtures' small one (ids < 91), which changes nothing
about the cost of the graph. Usage: /usr/bin/python3 bench/production/build_models.py OUT
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "fixtures"))

import build_hf_models as hf  # noqa: E402
import hf_tokenizers as tok  # noqa: E402

BERT_BASE = {
    "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2,
    "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert",
    "architectures": ["BertModel"],
}


def build_bert(out):
    torch.manual_seed(0)
    model = hf.Bert(BERT_BASE).eval()
    folder = os.path.join(out, "bert-base-hf")
    hf.write_bert_files(folder, BERT_BASE)
    path = os.path.join(folder, "onnx", "model.onnx")
    hf.export_bert(model, path, "last_hidden_state")
    # The plain ONNX model is the same file.
    plain = os.path.join(out, "bert-base.onnx")
    if os.path.exists(plain):
        os.remove(plain)
    os.link(path, plain)


def build_resnet(out):
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, os.path.join(out, "resnet50.onnx"), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=14,
                      do_constant_folding=True)


def main():
    out = sys.argv[1]
    which = sys.argv[2:] or ["bert", "resnet50"]
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        if "bert" in which:
            build_bert(out)
        if "resnet50" in which:
            build_resnet(out)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"torch": torch.__version__, "vocab_ids_below": len(tok.bert_vocab())}, f)


if __name__ == "__main__":
    main()
