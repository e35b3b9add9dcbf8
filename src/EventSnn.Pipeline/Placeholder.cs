namespace EventSnn.Pipeline; internal static class Placeholder { }
