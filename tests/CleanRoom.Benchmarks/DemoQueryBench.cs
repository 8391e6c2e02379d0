using System.Diagnostics;
using System.Security.Cryptography;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Envelope;
using CleanRoom.Privacy;
using DuckDB.NET.Data;

namespace CleanRoom.Benchmarks;

/// <summary>
/// The demo query at a given size, side by side: plain DuckDB over plaintext Parquet files vs the
/// enclave path over the same files encrypted (decrypt into memory → load → lock down → query →
/// threshold). Both include reading the input; data generation and encryption are not timed.
/// </summary>
internal static class DemoQueryBench
{
    private static readonly string Sql = CleanRoom.Cli.DemoData.ConversionsSql;

    private static readonly DatasetDeclaration s_purchases = CleanRoom.Cli.DemoData.Purchases;

    private static readonly DatasetDeclaration s_exposures = CleanRoom.Cli.DemoData.Exposures;

    public static async Task RunAsync(TextWriter output, long rows, string workDirectory, int repetitions = 3)
    {
        Directory.CreateDirectory(workDirectory);
        var purchases = Path.Combine(workDirectory, $"purchases-{rows}.parquet");
        var exposures = Path.Combine(workDirectory, $"exposures-{rows}.parquet");
        Generate(purchases, exposures, rows);

        var key = RandomNumberGenerator.GetBytes(32);
        var digests = new Dictionary<string, string>();
        foreach (var (name, file) in new[] { ("purchases", purchases), ("exposures", exposures) })
        {
            await using var input = File.OpenRead(file);
            await using var cipher = File.Create(file + ".cre");
            var info = await DatasetEnvelope.EncryptAsync(input, cipher, key, new EnvelopeOptions { DatasetId = name, ContentType = EnclavePipeline.ParquetContentType });
            digests[name] = Convert.ToHexStringLower(info.CiphertextSha256);
        }

        var plain = new List<double>();
        var enclave = new List<double>();
        int plainRows = 0, enclaveRows = 0, suppressed = 0;
        for (var i = 0; i < repetitions; i++)
        {
            var sw = Stopwatch.StartNew();
            plainRows = Plain(purchases, exposures);
            plain.Add(sw.Elapsed.TotalSeconds);

            sw.Restart();
            (enclaveRows, suppressed) = await EnclavePathAsync(purchases + ".cre", exposures + ".cre", key, digests);
            enclave.Add(sw.Elapsed.TotalSeconds);
        }

        var p = Median(plain);
        var e = Median(enclave);
        output.WriteLine($"demo query, {rows:N0} rows per party: plain DuckDB over Parquet {p:0.000} s ({plainRows} groups) | enclave path {e:0.000} s ({enclaveRows} groups, {suppressed} suppressed) | ratio {e / p:0.00}x (median of {repetitions})");
        foreach (var f in Directory.GetFiles(workDirectory, $"*-{rows}.parquet*"))
        {
            File.Delete(f);
        }
    }

    internal static void Generate(string purchases, string exposures, long rows)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        var customers = Math.Max(1000, rows / 5);
        cmd.CommandText = $"""
            SELECT setseed(0.42);
            COPY (SELECT (floor(random() * {customers}) + 1)::BIGINT AS customer_id,
                         (['grocery','electronics','apparel','home','beauty','sports','toys','books'])[(floor(random() * 8) + 1)::INT] AS category,
                         round(random() * 500, 2)::DECIMAL(18,2) AS amount,
                         (DATE '2026-01-01' + (floor(random() * 300))::INT) AS purchase_date
                  FROM range({rows})) TO '{purchases}' (FORMAT parquet);
            COPY (SELECT (floor(random() * {customers}) + 1)::BIGINT AS customer_id,
                         (['summer-sale','back-to-school','holiday-gifts','new-year'])[(floor(random() * 4) + 1)::INT] AS campaign,
                         (DATE '2026-01-01' + (floor(random() * 300))::INT) AS exposure_date
                  FROM range({rows})) TO '{exposures}' (FORMAT parquet);
            """;
        cmd.ExecuteNonQuery();
    }

    private static int Plain(string purchases, string exposures)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT e.campaign, p.category, count(*) AS conversions, sum(p.amount) AS revenue
            FROM read_parquet('{exposures}') AS e
            JOIN read_parquet('{purchases}') AS p ON e.customer_id = p.customer_id
            WHERE p.purchase_date >= e.exposure_date
            GROUP BY e.campaign, p.category
            HAVING count(DISTINCT e.customer_id) >= 10 AND count(DISTINCT p.customer_id) >= 10
            ORDER BY e.campaign, p.category
            """;
        using var reader = cmd.ExecuteReader();
        var n = 0;
        while (reader.Read())
        {
            n++;
        }

        return n;
    }

    private static async Task<(int Rows, int Suppressed)> EnclavePathAsync(string purchases, string exposures, byte[] key, Dictionary<string, string> digests)
    {
        using var sandbox = new SqlSandbox("8GB");
        foreach (var (decl, file) in new[] { (s_purchases, purchases), (s_exposures, exposures) })
        {
            await using var stream = File.OpenRead(file);
            await EnclavePipeline.LoadEncryptedAsync(stream, key, decl, decl.Name, digests[decl.Name], sandbox, default);
        }

        using var analyzer = new SqlAnalyzer();
        var catalog = new SqlCatalog(
        [
            new DatasetSchema("purchases", s_purchases.Columns.Select(c => new ColumnSchema(c.Name, c.Type)).ToList(), "customer_id", ["customer_id"]),
            new DatasetSchema("exposures", s_exposures.Columns.Select(c => new ColumnSchema(c.Name, c.Type)).ToList(), "customer_id", ["customer_id"]),
        ]);
        var analysis = analyzer.Analyze(Sql, catalog);
        if (!analysis.IsAllowed)
        {
            throw new InvalidOperationException("benchmark SQL refused: " + analysis.Reason);
        }

        var result = EnclavePipeline.Execute(sandbox, ThresholdRewriter.Rewrite(Sql, analysis, catalog, analyzer), [], 10);
        return (result.Rows.Count, result.SuppressedGroups);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
