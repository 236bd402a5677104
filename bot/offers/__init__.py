"""The offer after every episode: a service tells the bot a young person is back, and the bot offers them a chat."""
