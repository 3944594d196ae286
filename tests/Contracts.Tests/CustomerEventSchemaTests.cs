namespace CustomerData.Contracts.Tests;

public sealed class CustomerEventSchemaTests
{
    [Fact]
    public void Avro_contract_has_the_fields_of_the_spec()
    {
        var fields = CustomerEventSchema.Schema.Fields.Select(f => $"{f.Name}:{f.Schema.Tag}").ToList();

        Assert.Equal(["event_id:String", "customer_id:Int", "event_type:String", "product_id:Union", "event_timestamp:String"], fields);
    }
}
