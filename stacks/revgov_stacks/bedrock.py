"""The copilot's Bedrock models in AWS: which function uses which configured model, and the grant to invoke it.

DESIGN.md: "Answers come from Bedrock (Converse) in AWS"; docs/copilot.md: "AWS: Titan Text Embeddings v2
(`REVGOV_EMBEDDER=bedrock`)". The Lambda layer holds no local embedder (onnxruntime and the MiniLM weights are the
`local` extra of pyproject.toml), so the API (questions) and the contract indexer (contract.changed) embed with the
configured embedding model, one model for both so that a question's vector is comparable with the index's, and the
API answers with the first configured answer model. Each function may invoke the models it uses, no other.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from .nag import acknowledge

BEDROCK_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]  # Converse uses these
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.", "global.")


def bedrock_model_arns(model_ids: tuple[str, ...]) -> list[str]:
    """Foundation-model ARNs in this region; a cross-region inference profile also needs its models anywhere."""
    arns: list[str] = []
    for model_id in model_ids:
        if model_id.startswith(_PROFILE_PREFIXES):
            arns.append(f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}:{Aws.ACCOUNT_ID}:inference-profile/{model_id}")
            arns.append(f"arn:{Aws.PARTITION}:bedrock:*::foundation-model/{model_id.split('.', 1)[1]}")
        else:
            arns.append(f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}::foundation-model/{model_id}")
    return arns


def split_bedrock_models(model_ids: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(answer models, embedding models) of the configured ids: Bedrock names its embedding models `…embed…`
    (amazon.titan-embed-text-v2:0, cohere.embed-english-v3)."""
    embedding = tuple(m for m in model_ids if "embed" in m.split(".")[-1])
    return tuple(m for m in model_ids if m not in embedding), embedding


def wire_copilot_models(api: lambda_.Function, indexer: lambda_.Function, model_ids: tuple[str, ...]) -> None:
    """The API: every configured model (stacks/README.md: "the only models the API may invoke"), answering with the
    first answer model; the indexer: the embedding model only. Both embed with the same model."""
    answer_models, embedding_models = split_bedrock_models(model_ids)
    if not embedding_models:
        raise ValueError("bedrock_model_ids names no embedding model (e.g. amazon.titan-embed-text-v2:0): the "
                         "functions have no local embedder, so the copilot could not index or search contracts")
    for fn in (api, indexer):
        fn.add_environment("REVGOV_EMBEDDER", "bedrock")
        fn.add_environment("REVGOV_EMBEDDING_MODEL", embedding_models[0])
    if answer_models:
        api.add_environment("REVGOV_ANSWERER", "bedrock")
        api.add_environment("REVGOV_ANSWER_MODEL", answer_models[0])
    grant_models(api, model_ids)
    grant_models(indexer, embedding_models[:1])


def grant_models(fn: lambda_.Function, model_ids: tuple[str, ...]) -> None:
    arns = bedrock_model_arns(model_ids)
    if not arns:
        return
    fn.add_to_role_policy(iam.PolicyStatement(sid="ConfiguredModelsOnly", actions=BEDROCK_ACTIONS, resources=arns))
    fn.add_environment("REVGOV_BEDROCK_MODEL_IDS", ",".join(model_ids))
    for model_id in model_ids:
        if model_id.startswith(_PROFILE_PREFIXES):
            base = model_id.split(".", 1)[1]
            finding = f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{base}]"
            acknowledge(fn.role, finding,  # type: ignore[arg-type]
                        f"{model_id} is a cross-region inference profile: Bedrock routes it to {base} in any "
                        "region of the profile, so the model grant names every region (one model only).")
