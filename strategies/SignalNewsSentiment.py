"""Research strategy: the headline-sentiment (news) signal, traded alone."""

import pandas as pd

from strategies.news_columns import NewsColumns
from strategies.signal_research import SignalResearch
from strategies.signals.news_sentiment import NewsSentimentParameters


class SignalNewsSentiment(NewsSentimentParameters, SignalResearch):
    """The news signal alone, on the ``news_*`` columns of ``centaur.llm.news`` (sentiment on).

    The rule: strategies/signals/news_sentiment.py; the columns: strategies/news_columns.py.
    """

    signal_name = "news_sentiment"

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        self.news = NewsColumns.from_config(self.config, self.centaur.llm)

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        news = getattr(self, "news", None)  # None: not started (FreqUI's webserver views)
        if news is not None:
            dataframe = news.add(dataframe, metadata["pair"], self.timeframe)
        return super().populate_indicators(dataframe, metadata)
