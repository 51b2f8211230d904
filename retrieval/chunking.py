"""Split a paper's summary into chunks (LlamaIndex SentenceSplitter) carrying the paper's metadata.

Chunk text stays verbatim (citations quote it); the title is added only to what gets embedded,
which helps questions that name the paper.
"""

from __future__ import annotations

import numpy as np
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import (
    MetadataMode,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)

from paperbot.config.settings import RetrievalSettings
from paperbot.retrieval.types import Paper

_NOT_EMBEDDED = ["paper_id", "position", "source", "authors", "presenter"]  # only the title joins the text


class Chunker:
    def __init__(self, settings: RetrievalSettings):
        self._splitter = SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)

    def nodes(self, paper: Paper) -> list[TextNode]:
        pieces = [p for p in self._splitter.split_text(paper.text) if p.strip()] or [paper.text]
        nodes = []
        for position, piece in enumerate(pieces):
            node = TextNode(
                id_=f"{paper.id}#{position}",
                text=piece,
                metadata={"paper_id": paper.id, "title": paper.title, "source": paper.source, "position": position,
                          "authors": ", ".join(paper.authors), "presenter": paper.presenter or ""},
                excluded_embed_metadata_keys=list(_NOT_EMBEDDED),
                excluded_llm_metadata_keys=list(_NOT_EMBEDDED),
                metadata_template="{value}",
                text_template="{metadata_str}\n{content}",
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=paper.id)
            nodes.append(node)
        return nodes


def embed_text(node: TextNode) -> str:
    """What the embedder sees for a chunk: title, then the verbatim chunk."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)


def paper_vector(chunk_vectors: list[list[float]]) -> list[float]:
    """A whole paper's vector (for 'nearest papers'): the normalised mean of its chunks' vectors."""
    mean = np.mean(np.asarray(chunk_vectors, dtype=np.float32), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist()
