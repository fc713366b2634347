"""The emotional layer: emosim's observers, taxonomy and learned strategy ranking for any
conversation, at chat time (`read_conversation`, `emosim layer serve`) and as content-agnostic
training data (`emosim export --format layer`)."""
