"""The heart-rate forecasting model: dataset, baselines, the LSTM and its evaluation."""
