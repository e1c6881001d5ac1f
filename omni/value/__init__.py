"""Customer value: RFM classes, purchase and spend models (CLV), TGI profiles, as of a month end."""
