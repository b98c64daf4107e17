"""`python -m agent.brains.llama_serve ...`: llama-cpp-python's OpenAI-compatible server, with chat
templates that do not HTML-escape the conversation.

llama-cpp-python renders its chat formats (chatml-function-calling among them) through a jinja
environment with HTML autoescaping, so a brief's quotes reached the model as ``&#34;`` and an
apostrophe as ``&#39;``. A prompt is not HTML: here the environment renders text as it is, then the
server's own ``main()`` runs with the same arguments.
"""

from __future__ import annotations


def plain_templates() -> None:
    """Make llama-cpp's chat-template environment render without HTML escaping (idempotent)."""
    import llama_cpp.llama_chat_format as chat_format

    base = chat_format.ImmutableSandboxedEnvironment
    if getattr(base, "_reel_director_plain", False):
        return

    class PlainEnvironment(base):  # type: ignore[misc, valid-type]
        _reel_director_plain = True

        def __init__(self, *args, **kwargs):
            kwargs["autoescape"] = False
            super().__init__(*args, **kwargs)

    chat_format.ImmutableSandboxedEnvironment = PlainEnvironment


def main() -> None:
    plain_templates()
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
