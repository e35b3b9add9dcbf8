namespace EventSnn.Events;

/// <summary>
/// One sample of an inertial measurement unit: timestamp in microseconds, temperature in
/// degrees Celsius, acceleration in g (9.81 m/s²), rotation in degrees per second and,
/// where the sensor has one, magnetic flux density in microtesla (0 otherwise).
/// </summary>
public readonly record struct ImuSample(
    long T,
    float Temperature,
    float AccelX,
    float AccelY,
    float AccelZ,
    float GyroX,
    float GyroY,
    float GyroZ,
    float MagX = 0f,
    float MagY = 0f,
    float MagZ = 0f);
