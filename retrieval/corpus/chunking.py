"""Split a paper's summary into chunks (LlamaIndex SentenceSplitter) carrying the paper's metadata.

Chunk text stays verbatim (citations quote it); the title is added only to what gets embedded,
which helps questions that name the paper. LlamaIndex is imported only when chunks are made, so
checking the chunking identity costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...config.settings import RetrievalSettings
from ..types import Paper

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

_NOT_EMBEDDED = ["paper_id", "position", "source", "authors", "presenter"]  # only the title joins the text

# Bump when the same paper and settings give other chunk texts or other embedded texts: an index
# built by another version is then refused for writing (re-index) instead of mixing the two.
CHUNKER_VERSION = 1


def chunking_identity(settings: RetrievalSettings) -> str:
    """What an index's chunks depend on besides the embedder, as the index records it."""
    return f"chunks of {settings.chunk_size} tokens overlapping by {settings.chunk_overlap} (chunker v{CHUNKER_VERSION})"


class Chunker:
    def __init__(self, settings: RetrievalSettings):
        from llama_index.core.node_parser import SentenceSplitter

        self.identity = chunking_identity(settings)
        self._splitter = SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)

    def nodes(self, paper: Paper) -> list[TextNode]:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

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
    from llama_index.core.schema import MetadataMode

    return node.get_content(metadata_mode=MetadataMode.EMBED)


def paper_vector(chunk_vectors: list[list[float]]) -> list[float]:
    """A whole paper's vector (for 'nearest papers'): the normalised mean of its chunks' vectors."""
    mean = np.mean(np.asarray(chunk_vectors, dtype=np.float32), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist()
